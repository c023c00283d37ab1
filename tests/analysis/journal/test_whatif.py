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

    live = ["journal", "whatif", str(run), "--swap", "a=strategy:buy_and_hold", "--json"]
    assert main([*live, "--from", "2000-01-06"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["swap"] == {"a": "strategy:buy_and_hold"}
    assert report["slots"]["a"]["difference"]["final_equity"] == pytest.approx(-5.0)


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


def test_a_live_strategy_decides_inside_the_window_and_a_keeps_its_own_outside(
    hand_run: Callable[..., Path], tmp_path: Path
) -> None:
    # A config slot whose plan counts the bars *it* sees: it is called from bar 4 on (the
    # window), so its bar 0 is bar 4 (long, fills at bar 5's open, 100) and its bar 3 is
    # bar 7 (flat, fills at bar 8's open, 125): +25. Before the window a keeps its own -40.
    other = tmp_path / "other.toml"
    other.write_text(
        '[[strategies]]\nname = "scripted"\nid = "x"\nparams = { plan = "0:long,3:flat" }\n'
    )

    result = what_if(hand_run(PLANS), {"a": f"config:{other}#x"}, start=bar_time(4))

    assert result.replayed["a"]["final_equity"] == pytest.approx(985.0)
    assert result.removed == ()
    assert [(t.entry_price, t.exit_price, t.pnl) for t in result.added] == [(100.0, 125.0, 25.0)]
    assert result.replayed["b"] == result.recorded["b"]
    events = [json.loads(line) for line in result.journal.read_text().splitlines()]
    reasons = [e["reason"] for e in events if e["kind"] == "signal" and e["strategy"] == "a"]
    assert reasons == ["plan 1 long", "plan 3 flat", "plan 0 long", "plan 3 flat"]


def test_a_named_strategy_runs_live_with_its_defaults(hand_run: Callable[..., Path]) -> None:
    # buy_and_hold from bar 5: buys at bar 6's open (130), marked at the last close (125).
    result = what_if(hand_run(PLANS), {"a": "strategy:buy_and_hold"}, start=bar_time(5))

    assert result.replayed["a"]["final_equity"] == pytest.approx(1000.0 - 40.0 - 5.0)
    assert result.replayed["a"]["trades"] == 1  # the open long is not a closed round trip


def test_a_live_swap_names_a_slot_of_the_config(
    hand_run: Callable[..., Path], tmp_path: Path
) -> None:
    other = tmp_path / "two.toml"
    other.write_text(
        '[[strategies]]\nname = "sma_cross"\nid = "s1"\n\n[[strategies]]\nname = "momentum"\n'
    )
    with pytest.raises(ConfigError, match="#SLOT"):
        what_if(hand_run(PLANS), {"a": f"config:{other}"})
