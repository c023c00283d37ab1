"""Live checks against a real Ollama server and the real Anthropic API.

They run only when asked for and configured, never by accident (the suite is offline):

    PAPERTAPE_LIVE_LLM=1 OLLAMA_HOST=http://127.0.0.1:11434 [PAPERTAPE_OLLAMA_MODEL=llama3.2]
    PAPERTAPE_LIVE_LLM=1 ANTHROPIC_API_KEY=... [PAPERTAPE_ANTHROPIC_MODEL=claude-haiku-4-5]
"""

from __future__ import annotations

import asyncio
import os

import pytest

from papertape.plugins.llm.prompt import PromptSettings, system_prompt
from papertape.plugins.llm.providers import AnthropicProvider, OllamaProvider, Provider
from papertape.plugins.llm.providers.base import LlmRequest
from papertape.plugins.llm.schema import ReasonCode, decision_schema, parse_decision

LIVE = os.environ.get("PAPERTAPE_LIVE_LLM") == "1"
PROMPT = (
    "Market context for SPX (daily bars). Last price 2790.37. Closes of the last 5 bars: "
    "2711.66 2722.26 2746.21 2772.35 2790.37. SMA50 2741.2 (+1.79% vs price); RSI14 61.5. "
    "Your portfolio: equity 100,000.00, cash 100,000.00. No open positions. Decide now for SPX."
)


def decide(provider: Provider) -> tuple[ReasonCode, int, float]:
    request = LlmRequest(
        system_prompt(PromptSettings()), PROMPT, decision_schema(), "trade_decision", 0.0, 7, 400
    )
    resp = asyncio.run(provider.complete(request))
    return parse_decision(resp.text, truncated=resp.truncated).code, resp.tokens_out, resp.cost


@pytest.mark.skipif(
    not (LIVE and os.environ.get("OLLAMA_HOST")),
    reason="live Ollama test: set PAPERTAPE_LIVE_LLM=1 and OLLAMA_HOST",
)
def test_live_ollama_returns_a_valid_decision() -> None:
    code, tokens_out, cost = decide(OllamaProvider(os.environ.get("PAPERTAPE_OLLAMA_MODEL", "")))

    assert code is ReasonCode.OK
    assert tokens_out > 0 and cost == 0.0


@pytest.mark.skipif(
    not (LIVE and os.environ.get("ANTHROPIC_API_KEY")),
    reason="live Anthropic test: set PAPERTAPE_LIVE_LLM=1 and ANTHROPIC_API_KEY",
)
def test_live_anthropic_returns_a_valid_priced_decision() -> None:
    code, tokens_out, cost = decide(
        AnthropicProvider(os.environ.get("PAPERTAPE_ANTHROPIC_MODEL", ""), max_retries=2)
    )

    assert code is ReasonCode.OK
    assert tokens_out > 0 and cost > 0.0
