"""An answer of the local model is a function of its request, not of the calls made before.

Two fresh processes answer the same requests in different orders, one of them after other
requests that share a prompt prefix (llama.cpp's KV cache) and that need other action priors
(the calibrated decoder's per-process cache): every answer must be byte-identical.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from papertape.plugins.llm.fewshot import DECISION_OPENER

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]
MEMORY = "\n".join(
    f"Recalled: day {i}, price {1300 + i * 3.7:.2f}, RSI14 {40 + i}; HOLD; then {i % 3 - 1:+d}.0%"
    for i in range(25)
)
SYSTEM = "You are a careful trader. " * 40 + "Reply in JSON."

# Each request: (decoder, system or "" for the few-shot document, prompt, allowed actions)
REQUESTS: dict[str, tuple[str, str, str, list[str]]] = {
    "open": ("calibrated", "", "1395.07|57|none", ["BUY", "SELL", "HOLD"]),
    "long": ("calibrated", "", "memory|1402.5|71|long, +3.2%", ["HOLD", "CLOSE"]),
    "fewshot": ("fewshot", "", "memory|1380.1|35|none", ["BUY", "SELL", "HOLD"]),
    "chat": ("chat", SYSTEM, "SPX last 1395.07, RSI14 52. No position. Decide now.", []),
    "chat2": ("chat", SYSTEM, "SPX last 1402.07, RSI14 70. Long 10 shares. Decide now.", []),
}

SCRIPT = """
import asyncio, json, sys
from papertape.plugins.llm.fewshot import DECISION_OPENER, completion_header, restrict_actions
from papertape.plugins.llm.prompt import PromptSettings
from papertape.plugins.llm.providers import FewShotLocalProvider, LocalProvider
from papertape.plugins.llm.providers.base import LlmRequest
from papertape.plugins.llm.schema import decision_schema

requests, order, memory = json.loads(sys.stdin.read())

def context(spec):
    parts = spec.split("|")
    head = memory + "\\n\\n" if parts[0] == "memory" else ""
    price, rsi, pos = parts[-3:]
    return (f"{head}Context: price {price}; 20-bar return +2.1%; RSI14 {rsi}; vs SMA50 +1.4%; "
            f"vs SMA200 +5.0%; volatility 14%; position: {pos}\\nDecision: {DECISION_OPENER}")

out = {}
for name in order:
    decode, system, prompt, actions = requests[name]
    if decode == "chat":
        provider = LocalProvider()
        req = LlmRequest(system, prompt, decision_schema(), max_tokens=60)
    else:
        schema = restrict_actions(decision_schema(), actions)
        header = completion_header(PromptSettings())
        provider = FewShotLocalProvider(decode=decode)
        req = LlmRequest(header, context(prompt), schema)
    resp = asyncio.run(provider.complete(req))
    out[name] = [resp.text, resp.tokens_in, resp.tokens_out, resp.stop_reason]
print(json.dumps(out))
"""


def answers(order: list[str]) -> dict[str, list[object]]:
    """The answers of a fresh process that asks ``order`` in turn."""
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        input=json.dumps([REQUESTS, order, MEMORY]),
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result: dict[str, list[object]] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def test_answers_do_not_depend_on_the_calls_made_before() -> None:
    first = answers(["open", "chat"])  # each asked first in a fresh process
    after = answers(["long", "fewshot", "chat2", "chat", "open"])  # the same after others

    assert first["open"] == after["open"]
    assert first["chat"] == after["chat"]
    assert first["open"][0].startswith(DECISION_OPENER)  # type: ignore[union-attr]
