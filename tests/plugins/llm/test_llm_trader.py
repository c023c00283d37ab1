"""The LLM trader inside real sessions, talking to a loopback Ollama through the real client."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from papertape.engine.cli.main import main
from papertape.engine.cli.report import result_json
from papertape.engine.config import load_config
from papertape.engine.session import build_engine
from tests.plugins.llm.conftest import (
    Reply,
    Seen,
    WireServer,
    body,
    decision_json,
    ollama_reply,
    run_llm,
    trader,
)

Slice = Callable[[int], Path]


def scripted(*replies: Reply) -> Callable[[Seen], Reply]:
    """Answer the n-th request with the n-th reply (the last one repeats)."""
    count = [0]
    lock = threading.Lock()

    def handler(_seen: Seen) -> Reply:
        with lock:
            i = min(count[0], len(replies) - 1)
            count[0] += 1
        return replies[i]

    return handler


def ollama_trader(sid: str = "llm", **params: Any) -> dict[str, Any]:
    base = {
        "provider": "ollama",
        "model": "llama3.2",
        "warmup": 50,
        "every": 50,
        "decide_on": "",
        "timeout": 30.0,
    }
    base.update(params)
    return trader(sid, **base)


def kinds(records: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [r for r in records if r["kind"] == kind]


def day(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).strftime("%Y-%m-%d")


def test_decisions_are_journaled_and_linked_to_orders_fills_and_outcomes(
    wire: WireServer,
    sp500_slice: Slice,
    tmp_path: Path,
) -> None:
    wire.on(
        "/api/chat",
        scripted(
            ollama_reply(decision_json(action="BUY", size=0.5, reasoning="trend is up")),
            ollama_reply(decision_json(action="CLOSE", reasoning="take the money")),
            ollama_reply(decision_json(action="HOLD")),
        ),
    )

    result, records = run_llm(
        sp500_slice(200),
        tmp_path / "j",
        ollama_trader(cache_dir=str(tmp_path / "c")),
    )

    decisions = kinds(records, "llm_decision")
    assert [d["decision_id"] for d in decisions] == ["llm#1", "llm#2", "llm#3", "llm#4"]
    first = decisions[0]
    assert first["reason_code"] == "ok" and first["action"] == "BUY"
    assert first["model"] == "llama3.2" and first["provider"] == "ollama"
    assert first["params"] == {"max_tokens": 256, "seed": 0, "temperature": 0.0}
    assert json.loads(first["raw"])["reasoning"] == "trend is up"
    assert first["decision"]["size"] == 0.5
    assert (first["tokens_in"], first["tokens_out"]) == (612, 58)
    assert re.fullmatch(r"[0-9a-f]{64}", first["prompt_hash"])
    signals = kinds(records, "signal")
    assert signals[0]["reason"].startswith("[llm#1] trend is up")
    assert signals[0]["size"] == 0.5
    orders = kinds(records, "order")
    fills = kinds(records, "fill")
    assert [o["order_id"] for o in orders] == [f["order_id"] for f in fills]
    (outcome,) = kinds(records, "llm_outcome")
    (trade,) = kinds(records, "trade")
    assert outcome["decision_id"] == "llm#1" and outcome["closed_by"] == "llm#2"
    assert outcome["order_ids"] == [o["order_id"] for o in orders]
    assert outcome["pnl"] == pytest.approx(trade["pnl"])
    prompts = [s.json["messages"][1]["content"] for s in wire.requests("/api/chat")]
    assert "opened by decision llm#1" in prompts[1]
    assert "llm#1 long SPX" in prompts[2] and "closed by llm#2" in prompts[2]  # reflection
    stats = result_json(result)["strategies"]["llm"]["stats"]
    assert stats["llm_calls"] == 4 and stats["cache_hits"] == 0
    assert stats["tokens_in"] == 4 * 612 and stats["tokens_out"] == 4 * 58
    assert stats["actions"] == {"BUY": 1, "CLOSE": 1, "HOLD": 2}
    assert stats["latency_ms"]["n"] == 4 and stats["latency_ms"]["p50"] > 0


def test_cached_replay_makes_no_calls_and_reproduces_the_journal_byte_for_byte(
    wire: WireServer,
    sp500_slice: Slice,
    tmp_path: Path,
) -> None:
    wire.on(
        "/api/chat",
        scripted(
            ollama_reply(decision_json(action="BUY", size=0.8, stop_loss_pct=3, take_profit_pct=6)),
            ollama_reply("garbage"),
            ollama_reply(decision_json(action="SELL", size=0.2)),
        ),
    )
    data = sp500_slice(300)
    entry = ollama_trader(every=40, decide_on="exit", cache_dir=str(tmp_path / "c"))

    live, _ = run_llm(data, tmp_path / "j", entry)
    assert live.journal_path is not None
    live_bytes = live.journal_path.read_bytes()
    calls = len(wire.requests("/api/chat"))
    wire.on("/api/chat", Reply(500, {"error": "the model must not be called"}))
    replay, _ = run_llm(data, tmp_path / "j", entry)
    pure, pure_records = run_llm(
        data, tmp_path / "j2", {**entry, "params": {**entry["params"], "cache": "replay"}}
    )

    assert calls >= 7
    assert len(wire.requests("/api/chat")) == calls  # zero calls in both replays
    assert replay.journal_path is not None and replay.journal_path.read_bytes() == live_bytes
    assert result_json(replay)["strategies"]["llm"]["stats"]["llm_calls"] == 0
    assert result_json(replay)["strategies"]["llm"]["stats"]["cache_hits"] == calls
    live_decisions = [
        json.loads(x) for x in live_bytes.decode().splitlines() if '"llm_decision"' in x
    ]
    assert kinds(pure_records, "llm_decision") == live_decisions
    assert result_json(pure)["strategies"]["llm"]["stats"]["invalid_decisions"] == {
        "malformed_json": 1
    }


def test_bad_answers_and_failures_become_explicit_holds(
    wire: WireServer,
    sp500_slice: Slice,
    tmp_path: Path,
) -> None:
    wire.on(
        "/api/chat",
        scripted(
            ollama_reply("I'd buy, honestly"),
            ollama_reply('{"reasoning": "up", "action": "BUY", "si', "length"),
            ollama_reply(decision_json(action="BUY", size=7.0)),
            Reply(500, {"error": "llama runner process has terminated"}),
            Reply(200, body("ollama_chat.json"), delay=3.0),
            ollama_reply(decision_json(action="BUY", size=0.3)),
        ),
    )

    result, records = run_llm(
        sp500_slice(330),
        tmp_path / "j",
        ollama_trader(every=45, timeout=1.0, cache="off"),
    )

    decisions = kinds(records, "llm_decision")
    assert [d["reason_code"] for d in decisions] == [
        "malformed_json",
        "truncated",
        "schema_violation",
        "provider_error",
        "timeout",
        "ok",
        "ok",
    ]
    assert all(d["action"] == "HOLD" and d["decision"] is None for d in decisions[:5])
    assert all(d["detail"] for d in decisions[:5])
    assert "HTTP 500" in decisions[3]["detail"]
    assert decisions[5]["action"] == "BUY"
    assert len(kinds(records, "signal")) == 2  # only the valid decisions asked for anything
    strat = result.strategies["llm"]
    assert strat.errors == 0 and strat.enabled
    assert strat.stats["invalid_decisions"] == {
        "malformed_json": 1,
        "provider_error": 1,
        "schema_violation": 1,
        "timeout": 1,
        "truncated": 1,
    }


def test_budgets_hold_and_the_journal_says_why(
    wire: WireServer,
    sp500_slice: Slice,
    tmp_path: Path,
) -> None:
    wire.on("/api/chat", ollama_reply(decision_json()))
    wire.on("/v1/messages", Reply(200, body("anthropic_tool_use.json")))
    data = sp500_slice(300)

    _, by_calls = run_llm(data, tmp_path / "a", ollama_trader(budget_calls=2, cache="off"))
    _, by_tokens = run_llm(data, tmp_path / "b", ollama_trader(budget_tokens=100, cache="off"))
    priced, by_cost = run_llm(
        data,
        tmp_path / "c",
        trader(
            "llm",
            provider="anthropic",
            base_url=wire.url,
            max_retries=0,
            warmup=50,
            every=50,
            decide_on="",
            budget_cost=0.004,
            cache="off",
        ),
    )

    codes = [d["reason_code"] for d in kinds(by_calls, "llm_decision")]
    assert codes == ["ok", "ok", "budget_calls", "budget_calls", "budget_calls", "budget_calls"]
    assert {d["reason_code"] for d in kinds(by_tokens, "llm_decision")} == {"budget_tokens"}
    assert "budget spent" in kinds(by_tokens, "llm_decision")[0]["detail"]
    cost_codes = [d["reason_code"] for d in kinds(by_cost, "llm_decision")]
    assert cost_codes[0] == "ok" and cost_codes[-1] == "budget_cost"
    stats = priced.strategies["llm"].stats
    assert 0 < stats["cost"] <= 0.004
    assert stats["budget_holds"]["budget_cost"] == cost_codes.count("budget_cost")
    assert len(wire.requests("/api/chat")) == 2  # the token budget never let a call out


def test_traders_call_their_models_concurrently_and_journal_in_a_fixed_order(
    wire: WireServer,
    sp500_slice: Slice,
    tmp_path: Path,
) -> None:
    both_waiting = threading.Barrier(2, timeout=20)

    def handler(seen: Seen) -> Reply:
        try:
            both_waiting.wait()  # only passes if the two requests are in flight together
        except threading.BrokenBarrierError:
            return Reply(500, {"error": "requests arrived one after the other"})
        system = seen.json["messages"][0]["content"]
        reply = ollama_reply(decision_json(reasoning=system[:9]))
        if system.startswith("persona-a"):
            reply.delay = 0.5  # a answers last
        return reply

    wire.on("/api/chat", handler)

    _, records = run_llm(
        sp500_slice(60),
        tmp_path / "j",
        ollama_trader("a", every=100, system_prompt="persona-a", cache="off"),
        ollama_trader("b", every=100, system_prompt="persona-b", cache="off"),
    )

    decisions = kinds(records, "llm_decision")
    assert [d["reason_code"] for d in decisions] == ["ok", "ok"]
    assert [d["strategy"] for d in decisions] == ["a", "b"]  # b answered first; order is fixed


def test_prompts_in_a_session_only_hold_data_up_to_the_decision(
    wire: WireServer,
    sp500_slice: Slice,
    tmp_path: Path,
) -> None:
    wire.on("/api/chat", ollama_reply(decision_json()))

    _, records = run_llm(sp500_slice(260), tmp_path / "j", ollama_trader(every=30, cache="off"))

    prompts = [s.json["messages"][1]["content"] for s in wire.requests("/api/chat")]
    decisions = kinds(records, "llm_decision")
    assert len(prompts) == len(decisions) == 8
    for prompt, decision in zip(prompts, decisions, strict=True):
        assert max(re.findall(r"\d{4}-\d{2}-\d{2}", prompt)) == day(decision["time"])


def test_a_stop_that_closes_the_position_triggers_a_decision(
    wire: WireServer,
    sp500_slice: Slice,
    tmp_path: Path,
) -> None:
    wire.on(
        "/api/chat",
        scripted(
            ollama_reply(decision_json(action="BUY", size=1.0, stop_loss_pct=1.0)),
            ollama_reply(decision_json(action="HOLD")),
        ),
    )

    _, records = run_llm(
        sp500_slice(400), tmp_path / "j", ollama_trader(every=10_000, decide_on="exit", cache="off")
    )

    decisions = kinds(records, "llm_decision")
    (outcome,) = kinds(records, "llm_outcome")
    stop_fill = next(f for f in kinds(records, "fill") if f["role"] == "stop_loss")
    assert outcome["closed_by"] == "stop_loss" and outcome["pnl"] < 0
    assert len(decisions) == 2
    assert decisions[1]["time"] == stop_fill["time"]  # decided at the close of the stop's bar
    assert kinds(records, "order")[0]["stop_loss"] is not None


def test_backtest_cli_reports_llm_stats(
    wire: WireServer,
    sp500_slice: Slice,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    wire.on("/api/chat", ollama_reply(decision_json(action="BUY", size=0.5)))

    code = main(
        [
            "backtest",
            "--data",
            str(sp500_slice(150)),
            "--strategy",
            "llm_trader",
            "--param",
            "provider=ollama",
            "--param",
            "model=llama3.2",
            "--param",
            "every=50",
            "--param",
            f"cache_dir={tmp_path / 'c'}",
            "--journal-dir",
            str(tmp_path / "j"),
            "--json",
        ]
    )

    out = json.loads(capsys.readouterr().out)
    stats = out["strategies"]["llm_trader"]["stats"]
    assert code == 0
    assert stats["provider"] == "ollama" and stats["model"] == "llama3.2"
    assert stats["llm_calls"] == 3 and stats["invalid_decisions"] == {}
    for key in ("cache_hits", "tokens_in", "tokens_out", "cost", "latency_ms", "budget_holds"):
        assert key in stats


CONFIGS = sorted(Path(__file__).resolve().parents[3].glob("configs/llm-*.toml"))


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.name)
def test_shipped_llm_configs_build(config: Path, wire: WireServer) -> None:
    engine, _ = build_engine(load_config(config), journal=False)

    traders = [s for s in engine.slots if s.strategy.name == "llm_trader"]
    assert traders, config.name


def test_a_huge_answer_is_journaled_capped_but_validated_whole(
    wire: WireServer, sp500_slice: Slice, tmp_path: Path
) -> None:
    # A valid decision padded to ~100 KB: what is validated is the whole answer (the BUY goes
    # through), what is journaled is the first journal_raw_chars characters.
    valid = decision_json(action="BUY", size=0.5, reasoning="up")
    huge = valid[:-1] + " " * 100_000 + "}"
    wire.on("/api/chat", scripted(ollama_reply(huge), ollama_reply(decision_json())))

    _, records = run_llm(
        sp500_slice(120),
        tmp_path / "j",
        ollama_trader(cache_dir=str(tmp_path / "c"), journal_raw_chars=4096),
    )

    first = kinds(records, "llm_decision")[0]
    assert first["action"] == "BUY" and first["reason_code"] == "ok"
    assert first["raw"] == huge[:4096]
    assert first["raw_truncated"] is True
    assert first["raw_length"] == len(huge)
    assert kinds(records, "signal")[0]["size"] == 0.5
    second = kinds(records, "llm_decision")[1]
    assert second["raw_truncated"] is False and second["raw_length"] == len(second["raw"])


@pytest.mark.parametrize("live", [False, True])
def test_live_traders_order_only_their_own_records(live: bool, tmp_path: Path) -> None:
    """Replay: one emission order per engine (a deterministic journal). Live: one per trader,
    so a fast trader's decision is journaled and acted on without waiting for a slow one."""
    import asyncio

    from papertape.engine.strategy import StrategyContext
    from papertape.strategies.llm_trader import LlmTrader

    class Owner:
        def emit(self, event: Any) -> None:
            pass

    owner = Owner()
    slow, fast = (
        LlmTrader(provider="ollama", model="m", cache_dir=str(tmp_path)) for _ in range(2)
    )
    for sid, t in (("slow", slow), ("fast", fast)):
        t.on_start(
            StrategyContext(id=sid, symbols=("SPX",), interval_ns=1, emit=owner.emit, live=live)
        )

    async def fast_waits_for_slow() -> bool:
        first, second = slow._sequencer.turn(), fast._sequencer.turn()
        first.started = second.started = True  # the slow call is still running
        try:
            await asyncio.wait_for(second.wait(), 0.2)
        except TimeoutError:
            return True
        finally:
            first.finish()
            second.finish()
        return False

    assert (slow._sequencer is fast._sequencer) is not live
    assert asyncio.run(fast_waits_for_slow()) is not live


def test_identical_requests_in_one_round_share_one_call_so_the_cached_rerun_matches(
    wire: WireServer,
    sp500_slice: Slice,
    tmp_path: Path,
) -> None:
    """Two traders whose requests coincide used to get two different answers from the model
    while the cache kept one; the warm re-run then served that one to both and did not
    reproduce the run. Now the second waits for the first's call."""
    answers = iter(["BUY", "HOLD", "CLOSE", "BUY", "HOLD", "CLOSE", "BUY", "HOLD"])

    def handler(seen: Seen) -> Reply:
        return ollama_reply(decision_json(action=next(answers), size=0.5, confidence=0.6))

    wire.on("/api/chat", handler)
    data = sp500_slice(120)  # one decision each, on bar 50: both flat, identical prompts
    twins = [ollama_trader(sid, every=100, cache_dir=str(tmp_path / "c")) for sid in "ab"]

    cold, records = run_llm(data, tmp_path / "j1", *twins)
    calls = len(wire.requests("/api/chat"))
    warm, _ = run_llm(data, tmp_path / "j2", *twins)

    decisions = kinds(records, "llm_decision")
    by = {sid: [d["action"] for d in decisions if d["strategy"] == sid] for sid in "ab"}
    assert calls == 1 and by["a"] == by["b"] == ["BUY"]  # one call, shared
    assert len(wire.requests("/api/chat")) == calls  # the re-run asked nothing
    assert cold.strategies["b"].stats["llm_calls"] == 0
    assert cold.journal_path is not None and warm.journal_path is not None
    strip = lambda p: [  # noqa: E731 - the two runs differ only in their run name
        line for line in p.read_text().splitlines() if '"run_started"' not in line
    ]
    assert strip(cold.journal_path) == strip(warm.journal_path)
