"""``journal search`` over hand-made journals: hits, their decisions, fills and outcomes."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from papertape.analysis.journal.search import search_journal
from papertape.engine.cli.main import main
from papertape.engine.errors import ConfigError
from tests.analysis.journal.conftest import bar_time

PLANS = {"a": "1:long,3:flat", "b": "4:long,6:flat"}


def test_a_reason_finds_its_decision_with_the_fills_and_the_round_trip(
    hand_run: Callable[..., Path],
) -> None:
    run = hand_run(PLANS)

    hits = search_journal(run, "long")

    assert [(h.event["strategy"], h.event["time"]) for h in hits] == [
        ("a", bar_time(1)),
        ("b", bar_time(4)),
    ]
    b = search_journal(run, "long", trader="b")
    assert len(b) == 1
    (hit,) = b
    assert hit.decision is hit.event
    assert [(f["price"], f["side"]) for f in hit.fills] == [(100.0, 1)]
    assert [t["pnl"] for t in hit.trades] == [pytest.approx(25.0)]
    assert "[long]" in hit.snippet


def test_the_fts_table_lives_in_the_index_and_is_not_filled_twice(
    hand_run: Callable[..., Path],
) -> None:
    run = hand_run(PLANS)

    first = search_journal(run, "plan")
    again = search_journal(run, "plan")

    assert len(first) == len(again) == 4
    with sqlite3.connect(run / "index.sqlite") as db:
        assert db.execute("SELECT count(*) FROM reasoning").fetchone()[0] == 4


def _write(folder: Path, events: list[dict[str, Any]]) -> Path:
    folder.mkdir()
    lines = [json.dumps({"seq": i, **e}, sort_keys=True) for i, e in enumerate(events)]
    (folder / "events.jsonl").write_text("\n".join(lines) + "\n")
    return folder


def test_an_llm_reasoning_hit_links_to_its_signal_and_its_outcome(tmp_path: Path) -> None:
    events = [
        {"kind": "run_started", "time": 0},
        {
            "kind": "llm_decision",
            "time": 5,
            "strategy": "llm",
            "symbol": "X",
            "decision_id": "llm#1",
            "decision": {"reasoning": "Volatility is falling; trend resumes.", "confidence": 0.7},
            "detail": "",
            "reason_code": "ok",
        },
        {"kind": "signal", "time": 5, "strategy": "llm", "symbol": "X", "bar_symbol": "X",
         "target": "long", "reason": "[llm#1] trend"},
        {"kind": "order", "time": 5, "strategy": "llm", "symbol": "X", "order_id": 7,
         "role": "entry"},
        {"kind": "fill", "time": 6, "strategy": "llm", "symbol": "X", "order_id": 7,
         "side": 1, "qty": 2.0, "price": 10.0},
        {"kind": "llm_decision", "time": 8, "strategy": "llm", "symbol": "X",
         "decision_id": "llm#2", "decision": None, "detail": "the model timed out",
         "reason_code": "timeout"},
        {"kind": "trade", "time": 9, "strategy": "llm", "symbol": "X", "entry_time": 6,
         "pnl": 4.0},
        {"kind": "llm_outcome", "time": 9, "strategy": "llm", "decision_id": "llm#1",
         "pnl": 4.0},
    ]  # fmt: skip
    run = _write(tmp_path / "j", events)

    (hit,) = search_journal(run, "volatile")  # stemmed: volatile ~ volatility

    assert hit.event["decision_id"] == "llm#1"
    assert hit.decision is not None and hit.decision["reason"] == "[llm#1] trend"
    assert [f["order_id"] for f in hit.fills] == [7]
    assert [t["pnl"] for t in hit.trades] == [4.0]
    assert hit.outcome_pnl == 4.0
    (timeout,) = search_journal(run, "timed")
    assert timeout.decision is None and timeout.event["reason_code"] == "timeout"
    with pytest.raises(ConfigError):
        search_journal(run, 'AND "')


def test_the_cli_lists_hits_and_json(
    hand_run: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    run = hand_run(PLANS)

    assert main(["journal", "search", str(run), "flat", "--trader", "a"]) == 0
    text = capsys.readouterr().out
    assert "plan 3" in text and "80.00" in text

    assert main(["journal", "search", str(run), "flat", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    assert [h["event"]["strategy"] for h in hits] == ["a", "b"]
    assert hits[0]["trades"][0]["pnl"] == pytest.approx(-40.0)


def test_the_cli_shows_bracketed_reasoning_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = [
        {"kind": "run_started", "time": 0},
        {"kind": "veto", "time": 1, "strategy": "s", "shield": "cap", "reason": "[bold] cap hit"},
    ]
    run = _write(tmp_path / "j", events)

    assert main(["journal", "search", str(run), "cap"]) == 0
    assert "[bold] [cap] hit" in capsys.readouterr().out
