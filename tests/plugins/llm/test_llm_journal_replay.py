"""Done-when of journal replay: a recorded LLM session replays with other fees, no model call."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from papertape.engine.cli.main import main
from papertape.engine.journal import read_journal
from papertape.engine.journal.replay.rerun import replay_run
from papertape.plugins.llm.providers import ollama
from tests.plugins.llm.conftest import (
    Reply,
    Seen,
    WireServer,
    decision_json,
    ollama_reply,
    run_llm,
    trader,
)

Slice = Callable[[int], Path]


def _answers() -> Callable[[Seen], Reply]:
    replies = [
        decision_json(action="BUY", size=0.6, stop_loss_pct=4, take_profit_pct=8, reasoning="up"),
        decision_json(action="HOLD"),
        decision_json(action="CLOSE", reasoning="done"),
        decision_json(action="BUY", size=0.3, reasoning="again"),
    ]
    count = [0]
    lock = threading.Lock()

    def handler(_seen: Seen) -> Reply:
        with lock:
            i = min(count[0], len(replies) - 1)
            count[0] += 1
        return ollama_reply(replies[i])

    return handler


def _record(wire: WireServer, data: Path, tmp_path: Path) -> Path:
    wire.on("/api/chat", _answers())
    llm = trader(
        "llm",
        provider="ollama",
        model="llama3.2",
        warmup=40,
        every=30,
        decide_on="exit",
        cache_dir=str(tmp_path / "cache"),
    )
    rule = {"name": "sma_cross", "id": "sma", "params": {"fast": 5, "slow": 20}}
    extra = {"execution": {"taker_bps": 5.0, "maker_bps": 1.0}}
    result, _ = run_llm(data, tmp_path / "j", rule, llm, extra=extra)
    assert result.journal_path is not None
    return result.journal_path.parent


def _refuse_every_model(wire: WireServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every way to a model now fails loudly: the wire answers 500, the providers raise."""
    wire.on("/api/chat", Reply(500, {"error": "the model must not be called"}))

    def refuse(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("a model was called or loaded during a replay")

    from papertape.plugins.llm.providers import local

    monkeypatch.setattr(ollama.OllamaProvider, "complete", refuse)
    monkeypatch.setattr(local, "load_llama", refuse)
    monkeypatch.setattr("papertape.plugins.llm.trader.LlmTrader.on_start", refuse)


def _kinds(path: Path, kind: str) -> list[dict[str, Any]]:
    return [r for r in read_journal(path) if r["kind"] == kind]


def test_a_recorded_llm_session_replays_exactly_and_with_other_fees_without_the_model(
    wire: WireServer, sp500_slice: Slice, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = _record(wire, sp500_slice(200), tmp_path)
    calls = len(wire.requests("/api/chat"))
    recorded = run_dir / "events.jsonl"
    _refuse_every_model(wire, monkeypatch)

    exact = replay_run(run_dir, out=tmp_path / "same")
    costly = replay_run(run_dir, fees_bps=25.0, out=tmp_path / "costly")

    assert len(wire.requests("/api/chat")) == calls  # not one request reached the model
    assert exact.exact and not exact.changed
    assert exact.journal.read_bytes() == recorded.read_bytes()
    assert not costly.exact and costly.changed
    old_signals = _kinds(recorded, "signal")
    new_signals = _kinds(costly.journal, "signal")
    assert {s["strategy"] for s in old_signals} == {"sma", "llm"}
    assert [(s["strategy"], s["time"], s["target"], s["reason"]) for s in new_signals] == [
        (s["strategy"], s["time"], s["target"], s["reason"]) for s in old_signals
    ]
    old_fills, new_fills = _kinds(recorded, "fill"), _kinds(costly.journal, "fill")
    assert [(f["strategy"], f["time"], f["side"]) for f in new_fills] == [
        (f["strategy"], f["time"], f["side"]) for f in old_fills
    ]
    for f in new_fills:  # every market order is a taker fill: 25 bps of its notional
        assert f["fee"] == pytest.approx(f["qty"] * f["price"] * 25e-4)
    assert _kinds(costly.journal, "llm_decision") == _kinds(recorded, "llm_decision")
    outcomes = _kinds(costly.journal, "llm_outcome")
    assert outcomes and [o["decision_id"] for o in outcomes] == [
        o["decision_id"] for o in _kinds(recorded, "llm_outcome")
    ]
    trades = _kinds(costly.journal, "trade")
    llm_trades = [t for t in trades if t["strategy"] == "llm"]
    assert [o["pnl"] for o in outcomes] == pytest.approx([t["pnl"] for t in llm_trades])
    assert costly.session.strategies["llm"].metrics.final_equity < (
        exact.session.strategies["llm"].metrics.final_equity
    )


def test_journal_replay_cli_reports_an_exact_match_and_side_by_side_metrics(
    wire: WireServer,
    sp500_slice: Slice,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run_dir = _record(wire, sp500_slice(200), tmp_path)
    _refuse_every_model(wire, monkeypatch)

    assert main(["journal", "replay", str(run_dir)]) == 0
    said = capsys.readouterr().out
    assert main(["journal", "replay", str(run_dir), "--fees-bps", "20", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)

    assert "exact match" in said
    llm = report["strategies"]["llm"]
    assert llm["recorded"]["trades"] == llm["replayed"]["trades"]
    assert llm["replayed"]["fees"] > llm["recorded"]["fees"] > 0
    assert report["recorded_exact"] is True and report["changes"] == {"fees_bps": 20.0}
