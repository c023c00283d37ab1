"""What-if on a hand-made run: the answers are worked out from the fixed prices by hand.

Slot ``a`` goes long on bar 1 (fills at bar 2's open, 120) and flat on bar 3 (fills at 80):
-40. Slot ``b`` goes long on bar 4 (fills at 100) and flat on bar 6 (fills at 125): +25.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from papertape.analysis.journal.whatif import TradeRow, compare_trades, parse_when, what_if
from papertape.engine.cli.main import main
from papertape.engine.errors import ConfigError
from tests.analysis.journal.conftest import bar_time

PLANS = {"a": "1:long,3:flat", "b": "4:long,6:flat"}


def test_the_whole_run_swapped_gives_a_the_other_slots_result(
    hand_run: Callable[..., Path],
) -> None:
    result = what_if(hand_run(PLANS), {"a": "b"})

    assert result.recorded["a"]["final_equity"] == pytest.approx(960.0)
    assert result.replayed["a"]["final_equity"] == pytest.approx(1025.0)
    assert result.difference("a", "final_equity") == pytest.approx(65.0)
    assert [(t.entry_price, t.exit_price, t.pnl) for t in result.removed] == [(120.0, 80.0, -40.0)]
    assert [(t.entry_price, t.exit_price, t.pnl) for t in result.added] == [(100.0, 125.0, 25.0)]
    assert result.replayed["b"] == result.recorded["b"]


def test_inside_the_window_a_takes_b_and_outside_it_keeps_its_own(
    hand_run: Callable[..., Path],
) -> None:
    # a's own long (bar 1, before the window) stands; inside the window a's flat on bar 3 is
    # replaced by b's decisions: long on bar 4 (already long: nothing), flat on bar 6 -> 125.
    result = what_if(hand_run(PLANS), {"a": "b"}, start=bar_time(2), end=None)

    assert result.replayed["a"]["final_equity"] == pytest.approx(1005.0)
    assert [(t.entry_price, t.exit_price) for t in result.removed] == [(120.0, 80.0)]
    assert [(t.entry_price, t.exit_price, t.pnl) for t in result.added] == [(120.0, 125.0, 5.0)]


def test_a_window_that_ends_early_drops_a_s_entry_and_keeps_its_later_decisions(
    hand_run: Callable[..., Path],
) -> None:
    # Bars 0-2 take b's decisions (none): a never enters; its flat on bar 3 finds nothing held.
    result = what_if(hand_run(PLANS), {"a": "b"}, start=None, end=bar_time(2))

    assert result.replayed["a"]["final_equity"] == pytest.approx(1000.0)
    assert result.replayed["a"]["trades"] == 0
    assert len(result.removed) == 1 and result.added == ()


def test_dates_parse_as_utc_and_a_bare_end_date_includes_its_day() -> None:
    assert parse_when("2000-01-03") == bar_time(2)
    assert parse_when("2000-01-03", end=True) == bar_time(3) - 1
    assert parse_when(None) is None
    with pytest.raises(ConfigError):
        parse_when("3rd of January")


def test_the_cli_prints_the_difference_and_the_changed_trades(
    hand_run: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    run = hand_run(PLANS)

    assert main(["journal", "whatif", str(run), "--swap", "a=b", "--from", "2000-01-03"]) == 0
    text = capsys.readouterr().out
    assert "+45.00" in text and "120.00" in text and "125.00" in text

    assert main(["journal", "whatif", str(run), "--swap", "a=b", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["slots"]["a"]["difference"]["final_equity"] == pytest.approx(65.0)
    assert report["added"][0]["pnl"] == pytest.approx(25.0)


def _row(entry: int, exit_: int, qty: float, pnl: float) -> TradeRow:
    return TradeRow("a", "X", 1, qty, entry, exit_, 10.0, 11.0, pnl)


def test_round_trips_with_the_same_times_and_another_size_are_resized_not_new() -> None:
    same, bigger = _row(1, 2, 1.0, 1.0), _row(3, 4, 1.0, 1.0)
    before = [same, bigger, _row(5, 6, 1.0, -1.0)]
    after = [_row(1, 2, 1.0, 1.0), _row(3, 4, 2.0, 2.0), _row(7, 8, 1.0, 3.0)]

    removed, added, resized = compare_trades(before, after)

    assert removed == (_row(5, 6, 1.0, -1.0),)
    assert added == (_row(7, 8, 1.0, 3.0),)
    assert resized == ((bigger, _row(3, 4, 2.0, 2.0)),)
