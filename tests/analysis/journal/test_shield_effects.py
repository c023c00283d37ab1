"""``journal stats``: what each shield saved or cost, on hand-made runs with known answers.

The hand-made tape (see conftest): closes 110, 120, 90, 80, 100, 130, 125, 125, 125 on bars
0..8; orders fill at the next bar's open (= this bar's close); one unit per decision, cash
1,000 per slot, no costs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from papertape.analysis.journal.shields import shield_effects
from papertape.analysis.journal.stats import journal_stats
from papertape.engine.cli.main import main
from tests.analysis.journal.conftest import bar_time

CAP = '\n[[shields]]\nname = "exposure_cap"\nmax_gross = 0.05\n'
HALT = (
    '\n[[shields]]\nname = "max_drawdown"\nreduce_only_at = 0.02\nhalt_at = 0.035\n'
    "release_at = 0.01\n"
)


def test_a_veto_is_marked_to_the_slots_next_decision(hand_run: Callable[..., Path]) -> None:
    # Gross exposure <= 5% of 1,000 = 50: a's long on bar 1 (close 120) gets 50/120 units,
    # 1 - 5/12 = 7/12 refused; its next decision is bar 3 (close 80): those 7/12 would have
    # lost 7/12 * 40 = 23.33, which the cap saved. b's long on bar 4 (close 100) gets 0.5;
    # the refused 0.5 would have gained 0.5 * 25 by its next decision (bar 6, close 125):
    # the cap cost 12.50.
    stats = journal_stats(hand_run({"a": "1:long,3:flat", "b": "4:long,6:flat"}, extra=CAP))

    rows = [(e.strategy, e.action, e.time, e.until, e.qty, e.saved) for e in stats.shield_effects]
    approx = pytest.approx
    assert rows == [
        ("a", "veto", bar_time(1), bar_time(3), approx(7 / 12), approx(40 * 7 / 12)),
        ("b", "veto", bar_time(4), bar_time(6), approx(0.5), approx(-12.5)),
    ]
    saved = stats.shield_saved()
    assert saved["a exposure_cap"] == {"vetoes": 1, "cuts": 0, "saved": approx(40 * 7 / 12)}
    assert saved["b exposure_cap"]["saved"] == approx(-12.5)


def test_a_halts_cut_is_marked_until_the_end_when_nothing_re_arms(
    hand_run: Callable[..., Path],
) -> None:
    # a buys on bar 1 (fills at 120); equity 970 at bar 2 (-3%: reduce-only), 960 at bar 3
    # (-4%: halt). The halt sells the unit at bar 4's open (80); it never re-arms and a
    # decides nothing more, so kept to the end (close 125) the unit would have made 45:
    # the halt cost 45.
    run = hand_run({"a": "1:long"}, extra=HALT)
    stats = journal_stats(run)

    (cut,) = stats.shield_effects
    assert (cut.strategy, cut.owner, cut.shield, cut.action) == ("a", "*", "max_drawdown", "cut")
    assert (cut.time, cut.qty, cut.price) == (bar_time(4), 1.0, 80.0)
    assert cut.saved == pytest.approx(-45.0)
    assert stats.shield_saved() == {"* max_drawdown": {"vetoes": 0, "cuts": 1, "saved": -45.0}}


def test_a_cut_is_marked_until_the_slots_next_decision(hand_run: Callable[..., Path]) -> None:
    # The same halt; a asks for flat on bar 5 (close 130): the cut unit is marked to there.
    stats = journal_stats(hand_run({"a": "1:long,5:flat"}, extra=HALT))

    (cut,) = stats.shield_effects
    assert cut.until == bar_time(5)
    assert cut.saved == pytest.approx(-50.0)


def test_a_cut_is_marked_only_until_the_shield_re_arms() -> None:
    # Hand-written journal: a halt at t=3 sells 2 units at 80 on t=4; the shield re-arms on
    # t=6 (close 70), before a's next decision on t=7 (close 60). Kept until the re-arming
    # the 2 units would have lost 2 * (70 - 80) = -20: the halt saved 20.
    times = np.arange(9, dtype=np.int64)
    closes = {"X": (times, np.array([100, 100, 90, 85, 80, 75, 70, 60, 50], dtype=float))}
    records = [
        {"kind": "signal", "time": 1, "strategy": "a", "symbol": "X"},
        {"kind": "shield_tripped", "time": 3, "strategy": "a", "shield": "dd", "state": "halted"},
        {"kind": "fill", "time": 4, "strategy": "a", "symbol": "X", "side": -1, "qty": 2.0,
         "price": 80.0, "role": "liquidation"},
        {"kind": "shield_released", "time": 6, "strategy": "a", "shield": "dd"},
        {"kind": "signal", "time": 7, "strategy": "a", "symbol": "X"},
    ]  # fmt: skip

    (cut,) = shield_effects(records, closes)

    assert (cut.owner, cut.time, cut.until, cut.qty) == ("a", 4, 6, 2.0)
    assert cut.saved == pytest.approx(20.0)


def test_the_cli_prints_what_shields_saved_and_json_has_every_action(
    hand_run: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    run = hand_run({"a": "1:long,3:flat", "b": "4:long,6:flat"}, extra=CAP)

    assert main(["journal", "stats", str(run)]) == 0
    text = capsys.readouterr().out
    assert "what the shields saved" in text and "+23.33" in text and "-12.50" in text

    assert main(["journal", "stats", str(run), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [e["saved"] for e in report["shield_effects"]] == [
        pytest.approx(23.3333333),
        pytest.approx(-12.5),
    ]
    assert report["shield_saved"]["b exposure_cap"]["vetoes"] == 1
