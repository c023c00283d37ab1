"""Live checks against a real Ollama server and the real Anthropic API.

Each runs wherever its counterpart is really there, and skips saying what is missing where it
is not (the wire formats are tested offline in test_llm_providers.py):

* Ollama: a server answering at ``OLLAMA_HOST`` (default http://127.0.0.1:11434) that has the
  model (``PAPERTAPE_OLLAMA_MODEL``, default the provider's);
* Anthropic: ``ANTHROPIC_API_KEY`` set (a paid API; ``PAPERTAPE_ANTHROPIC_MODEL`` optional).
"""

from __future__ import annotations

import asyncio
import json
import os
import urllib.request

import pytest

from papertape.plugins.llm.prompt import PromptSettings, system_prompt
from papertape.plugins.llm.providers import AnthropicProvider, OllamaProvider, Provider
from papertape.plugins.llm.providers.base import LlmRequest
from papertape.plugins.llm.providers.ollama import DEFAULT_OLLAMA_MODEL
from papertape.plugins.llm.schema import ReasonCode, decision_schema, parse_decision

OLLAMA_HOST = os.environ.get("OLLAMA_HOST") or "http://127.0.0.1:11434"
OLLAMA_MODEL = os.environ.get("PAPERTAPE_OLLAMA_MODEL") or DEFAULT_OLLAMA_MODEL
PROMPT = (
    "Market context for SPX (daily bars). Last price 2790.37. Closes of the last 5 bars: "
    "2711.66 2722.26 2746.21 2772.35 2790.37. SMA50 2741.2 (+1.79% vs price); RSI14 61.5. "
    "Your portfolio: equity 100,000.00, cash 100,000.00. No open positions. Decide now for SPX."
)


def ollama_missing() -> str:
    """Why the Ollama test cannot run here ("" when a server with the model answers)."""
    host = OLLAMA_HOST if "://" in OLLAMA_HOST else f"http://{OLLAMA_HOST}"
    try:
        with urllib.request.urlopen(f"{host}/api/tags", timeout=1.0) as r:
            tags = json.load(r)
    except (OSError, ValueError):
        return f"no Ollama server answers at {host}"
    names = {m.get("name", "") for m in tags.get("models", [])}
    if not names & {OLLAMA_MODEL, f"{OLLAMA_MODEL}:latest"}:
        return f"the Ollama server at {host} has no model {OLLAMA_MODEL} (ollama pull it)"
    return ""


def decide(provider: Provider) -> tuple[ReasonCode, int, float]:
    request = LlmRequest(
        system_prompt(PromptSettings()), PROMPT, decision_schema(), "trade_decision", 0.0, 7, 400
    )
    resp = asyncio.run(provider.complete(request))
    return parse_decision(resp.text, truncated=resp.truncated).code, resp.tokens_out, resp.cost


def test_live_ollama_returns_a_valid_decision() -> None:
    missing = ollama_missing()
    if missing:
        pytest.skip(missing)
    code, tokens_out, cost = decide(OllamaProvider(OLLAMA_MODEL, host=OLLAMA_HOST))

    assert code is ReasonCode.OK
    assert tokens_out > 0 and cost == 0.0


@pytest.mark.skipif(
    not os.environ.get("ANTHROPIC_API_KEY"),
    reason="no ANTHROPIC_API_KEY: the paid Anthropic API cannot be reached from here",
)
def test_live_anthropic_returns_a_valid_priced_decision() -> None:
    code, tokens_out, cost = decide(
        AnthropicProvider(os.environ.get("PAPERTAPE_ANTHROPIC_MODEL", ""), max_retries=2)
    )

    assert code is ReasonCode.OK
    assert tokens_out > 0 and cost > 0.0
