"""``journal stats`` on journals whose answers are worked out by hand.

The hand-made run (see conftest): slot ``a`` buys at 120 and sells at 80 (-40, closed on
Wednesday 2000-01-05), slot ``b`` buys at 100 and sells at 125 (+25, closed on Saturday
2000-01-08). Closes: bar 1 120, bar 3 80, bar 4 100, bar 6 125, bar 8 (the last) 125.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from papertape.analysis.journal.stats import journal_stats
from papertape.engine.cli.main import main
from tests.analysis.journal.conftest import DAY_NS, bar_time

PLANS = {"a": "1:long,3:flat", "b": "4:long,6:flat"}


def test_round_trips_are_grouped_by_trader_action_and_weekday(
    hand_run: Callable[..., Path],
) -> None:
    stats = journal_stats(hand_run(PLANS))

    trader = stats.by["trader"]
    assert (trader["a"].trades, trader["a"].wins, trader["a"].pnl) == (1, 0, pytest.approx(-40.0))
    assert (trader["b"].trades, trader["b"].wins, trader["b"].pnl) == (1, 1, pytest.approx(25.0))
    assert stats.by["action"]["long"].pnl == pytest.approx(-15.0)
    assert {k: g.pnl for k, g in stats.by["weekday"].items()} == {
        "Wed": pytest.approx(-40.0),
        "Sat": pytest.approx(25.0),
    }
    assert set(stats.by["regime"]) == {"unknown"}


def test_each_decision_is_scored_against_holding_the_previous_position(
    hand_run: Callable[..., Path],
) -> None:
    stats = journal_stats(hand_run(PLANS))

    rows = [(a.strategy, a.time, a.held, a.earned, a.holding, a.edge) for a in stats.attribution]
    approx = pytest.approx
    assert rows == [
        # a's long on bar 1: held nothing; bought at 120, marked at bar 3's close 80.
        ("a", bar_time(1), 0.0, approx(-40.0), 0.0, approx(-40.0)),
        # a's flat on bar 3: sold at 80; holding the unit to the end (125) would earn 45.
        ("a", bar_time(3), 1.0, approx(0.0), approx(45.0), approx(-45.0)),
        ("b", bar_time(4), 0.0, approx(25.0), 0.0, approx(25.0)),
        ("b", bar_time(6), 1.0, approx(0.0), approx(0.0), approx(0.0)),
    ]
    # Earned over the decisions adds up to the slot's P&L (nothing was held before them).
    assert stats.edge_by_strategy()["a"]["earned"] == pytest.approx(-40.0)


def _write(folder: Path, events: list[dict[str, Any]]) -> Path:
    folder.mkdir()
    lines = [json.dumps({"seq": i, **e}, sort_keys=True) for i, e in enumerate(events)]
    (folder / "events.jsonl").write_text("\n".join(lines) + "\n")
    return folder


def _decision(
    i: int, conf: float | None, code: str = "ok", t: int = 0, why: str = "r"
) -> dict[str, Any]:
    return {
        "kind": "llm_decision",
        "time": t,
        "strategy": "llm",
        "decision_id": f"llm#{i}",
        "symbol": "X",
        "decision": None if conf is None else {"confidence": conf, "reasoning": why},
        "action": "BUY" if code == "ok" else "HOLD",
        "reason_code": code,
    }


def _outcome(i: int, pnl: float) -> dict[str, Any]:
    return {
        "kind": "llm_outcome",
        "time": 1,
        "strategy": "llm",
        "decision_id": f"llm#{i}",
        "pnl": pnl,
    }


def test_stated_confidence_is_scored_against_the_trades_it_opened(tmp_path: Path) -> None:
    feb = 949_363_200 * 10**9  # 2000-02-01
    events = [
        {"kind": "run_started", "time": 0},
        _decision(1, 0.8, why="x" * 30),
        _decision(2, 0.6, why="x" * 10),
        _decision(3, 0.3, why="x" * 20),
        _decision(4, 0.9),  # its trade never closed: no outcome, not scored
        _decision(5, None, "timeout"),
        _decision(6, None, "schema_violation", t=feb),
        _decision(7, None, "timeout", t=feb + DAY_NS),
        _outcome(1, 6.0),
        _outcome(1, 4.0),
        _outcome(2, -5.0),
        _outcome(3, 3.0),
        _outcome(3, -5.0),  # two partial closes summing to a loss
        {
            "kind": "shield_tripped",
            "time": 2,
            "strategy": "llm",
            "shield": "max_drawdown",
            "state": "halted",
            "reason": "dd",
        },
        {"kind": "veto", "time": 2, "strategy": "llm", "shield": "max_drawdown"},
        {"kind": "veto", "time": 3, "strategy": "llm", "shield": "max_drawdown"},
    ]
    stats = journal_stats(_write(tmp_path / "j", events), attribute=False, bins=2)

    cal = stats.calibration["llm"]
    assert cal.decisions == 3
    assert cal.brier == pytest.approx((0.2**2 + 0.6**2 + 0.3**2) / 3)
    # bins [0, .5): conf .3, hit 0 -> gap .3 (1 of 3); [.5, 1]: conf .7, hit .5 -> gap .2 (2 of 3)
    assert cal.ece == pytest.approx(0.3 / 3 + 0.2 * 2 / 3)
    assert [b["count"] for b in cal.table] == [1, 2]
    assert stats.invalid == {"llm": {"timeout": 2, "schema_violation": 1}}
    assert stats.invalid_by_month == {
        "1970-01": {"timeout": 1},
        "2000-02": {"schema_violation": 1, "timeout": 1},
    }
    # Shortest first: llm#2 (10 characters, -5), llm#3 (20, -2), llm#1 (30, +10).
    bands = stats.reasoning_length["llm"]
    assert [(b["shortest"], b["longest"], b["decisions"], b["wins"]) for b in bands] == [
        (10, 10, 1, 0),
        (20, 20, 1, 0),
        (30, 30, 1, 1),
    ]
    assert [b["pnl"] for b in bands] == [pytest.approx(-5.0), pytest.approx(-2.0), 10.0]
    assert stats.shield_trips == {"llm max_drawdown halted": 1}
    assert stats.vetoes == {"llm max_drawdown": 2}


def test_the_cli_prints_tables_and_json(
    hand_run: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    run = hand_run(PLANS)

    assert main(["journal", "stats", str(run)]) == 0
    text = capsys.readouterr().out
    assert "-40.00" in text and "+25.00" in text and "-45.00" in text

    assert main(["journal", "stats", str(run), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["pnl_by"]["trader"]["b"]["pnl"] == pytest.approx(25.0)
    assert report["edge_by_strategy"]["a"]["edge"] == pytest.approx(-85.0)


def test_a_date_window_keeps_trades_closed_and_decisions_taken_inside_it(
    hand_run: Callable[..., Path],
) -> None:
    # a's round trip closes on bar 4, b's on bar 7; decisions on bars 1, 3 (a) and 4, 6 (b).
    stats = journal_stats(hand_run(PLANS), start=bar_time(3), end=bar_time(5))

    assert set(stats.by["trader"]) == {"a"}
    assert [(a.strategy, a.time) for a in stats.attribution] == [
        ("a", bar_time(3)),
        ("b", bar_time(4)),
    ]
    # b's long is still measured to its next decision (bar 6), after the window.
    assert stats.attribution[1].earned == pytest.approx(25.0)


def test_equal_reasoning_lengths_share_one_band(tmp_path: Path) -> None:
    events = [{"kind": "run_started", "time": 0}]
    for i, pnl in enumerate((-3.0, 1.0, 2.0, -1.0), start=1):
        events += [_decision(i, 0.6, why="same length"), _outcome(i, pnl)]

    stats = journal_stats(_write(tmp_path / "j", events), attribute=False)

    (band,) = stats.reasoning_length["llm"]
    assert (band["decisions"], band["wins"], band["pnl"]) == (4, 2, pytest.approx(-1.0))
