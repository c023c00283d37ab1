"""Bracket timing and the tie rule (issue 8 items 4 and 5), on hand-made bars.

Every expected number is worked out in the comment above its assertion. Bars are
``(open, high, low, close)``; decisions are taken on a bar's close and fill on a later bar.
"""

from __future__ import annotations

import pytest

from papertape.engine.execution.orders import OrderType, Signal
from papertape.plugins.sizers import FixedQuantity
from tests.conftest import Script, bars, make_engine


def _run(rows, signal, qty=10.0):  # type: ignore[no-untyped-def]
    engine, rec = make_engine(bars(rows), Script({0: signal}), sizer=FixedQuantity(qty=qty))
    engine.run_sync()
    times = [int(t) for t in engine.series[0].time]
    return engine, rec.kinds("fill"), rec.kinds("trade"), times


# ---------------------------------------------------------------------------------------------
# item 4: exit legs of an entry filled inside a bar start on the next bar
# ---------------------------------------------------------------------------------------------

LIMIT_ENTRY_ROWS = [
    (26.00, 26.10, 25.90, 26.00),  # bar 0: decide: limit buy 25.21, TP 25.72, SL 24.50
    (26.31, 26.40, 25.10, 25.30),  # bar 1: opens 26.31 above the limit, trades down to 25.10
    (25.30, 25.50, 24.40, 24.60),  # bar 2: TP 25.72 out of reach, SL 24.50 touched
    (24.60, 26.00, 24.55, 25.90),  # bar 3: never reached: the position is already closed
]


def test_limit_entry_filled_intrabar_does_not_exit_at_that_bars_open() -> None:
    # The limit buy fills inside bar 1 at 25.21 (open 26.31 > 25.21 >= low 25.10). The old
    # simulator then checked the take-profit against bar 1 from its open: a limit sell at 25.72
    # with open 26.31 >= 25.72 "filled" at 26.31, before the position existed: +10.90 booked.
    # Honest answer: the legs start on bar 2, which never reaches 25.72 (high 25.50) but trades
    # through the stop at 24.50 (low 24.40): exit at 24.50, P&L 10 * (24.50 - 25.21) = -7.10.
    sig = Signal.long(order_type=OrderType.LIMIT, price=25.21, take_profit=25.72, stop_loss=24.50)
    _, fills, trades, t = _run(LIMIT_ENTRY_ROWS, sig)
    entry, exit_ = fills
    assert (entry.price, entry.time) == (25.21, t[1])
    assert (exit_.price, exit_.role, exit_.time) == (24.50, "stop_loss", t[2])
    (trade,) = trades
    assert trade.pnl == pytest.approx(-7.10, abs=1e-9)


def test_stop_entry_filled_intrabar_checks_its_legs_from_the_next_bar() -> None:
    # Stop buy at 101: bar 1 opens 100 (below), high 104 triggers it at 101 inside the bar.
    # Bar 1's low 96 is under the stop-loss 97, but that low may have come before the entry:
    # the stop-loss is not checked on bar 1. Bar 2 (99..103) reaches the TP 102.5:
    # exit at 102.5, P&L 10 * (102.5 - 101) = +15.
    rows = [
        (100.0, 100.5, 99.5, 100.0),  # bar 0: decide
        (100.0, 104.0, 96.0, 100.5),  # bar 1: entry at 101 intrabar
        (100.5, 103.0, 99.0, 102.0),  # bar 2: TP 102.5 hit, SL 97 not
    ]
    sig = Signal.long(order_type=OrderType.STOP, price=101.0, stop_loss=97.0, take_profit=102.5)
    _, fills, trades, t = _run(rows, sig)
    entry, exit_ = fills
    assert (entry.price, entry.time) == (101.0, t[1])
    assert (exit_.price, exit_.role, exit_.time) == (102.5, "take_profit", t[2])
    assert trades[0].pnl == pytest.approx(15.0, abs=1e-9)


def test_limit_entry_filled_at_a_gap_open_checks_its_legs_on_the_same_bar() -> None:
    # Limit buy 103: bar 1 opens 102 below it, so it fills at the open (102) like a market
    # order; the rest of bar 1 follows the entry, so TP 104.5 (high 105) fills on bar 1.
    rows = [
        (100.0, 101.0, 99.0, 100.0),
        (102.0, 105.0, 101.0, 104.0),
        (104.0, 104.2, 103.0, 103.5),
    ]
    sig = Signal.long(order_type=OrderType.LIMIT, price=103.0, take_profit=104.5)
    _, fills, trades, t = _run(rows, sig)
    entry, exit_ = fills
    assert (entry.price, entry.time) == (102.0, t[1])
    assert (exit_.price, exit_.role, exit_.time) == (104.5, "take_profit", t[1])
    assert trades[0].pnl == pytest.approx(10 * 2.5, abs=1e-9)


def test_market_entry_at_the_open_keeps_checking_from_the_entry_bar() -> None:
    # Market buy fills at bar 1's open 100; bar 1 then falls to 94: SL 95 fills on bar 1.
    rows = [
        (100.0, 100.0, 100.0, 100.0),
        (100.0, 101.0, 94.0, 96.0),
        (96.0, 97.0, 95.5, 96.5),
    ]
    _, fills, trades, t = _run(rows, Signal.long(stop_loss=95.0, take_profit=110.0))
    entry, exit_ = fills
    assert (entry.price, exit_.price, exit_.role) == (100.0, 95.0, "stop_loss")
    assert exit_.time == entry.time == t[1]
    assert trades[0].pnl == pytest.approx(-50.0, abs=1e-9)


# ---------------------------------------------------------------------------------------------
# item 5: a bar that opens beyond a leg fills that leg at the open; only intrabar is a tie
# ---------------------------------------------------------------------------------------------

ENTRY = (100.0, 100.0, 100.0, 100.0)  # bar 1: market entry at 100, nothing else happens


def test_long_bar_gapping_over_the_take_profit_fills_it_at_the_open() -> None:
    # Long 10 at 100 with SL 95 / TP 105. Bar 2 opens at 106 (beyond the TP) and later falls
    # to 94 (beyond the SL). The TP limit sell was hit first, at the open: exit 106, +60.
    # (The old rule called this a tie and booked the stop at 95: -50.)
    rows = [ENTRY, ENTRY, (106.0, 107.0, 94.0, 96.0)]
    _, fills, trades, t = _run(rows, Signal.long(stop_loss=95.0, take_profit=105.0))
    exit_ = fills[1]
    assert (exit_.price, exit_.role, exit_.time) == (106.0, "take_profit", t[2])
    assert trades[0].pnl == pytest.approx(60.0, abs=1e-9)


def test_long_bar_gapping_under_the_stop_fills_it_at_the_open() -> None:
    # Bar 2 opens at 93 (under the SL 95) and later rallies to 106 (over the TP 105):
    # the stop fills at the open 93: -70.
    rows = [ENTRY, ENTRY, (93.0, 106.0, 92.0, 105.0)]
    _, fills, trades, _t = _run(rows, Signal.long(stop_loss=95.0, take_profit=105.0))
    assert (fills[1].price, fills[1].role) == (93.0, "stop_loss")
    assert trades[0].pnl == pytest.approx(-70.0, abs=1e-9)


def test_short_bar_gapping_under_the_take_profit_fills_it_at_the_open() -> None:
    # Short 10 at 100 with SL 105 / TP 95. Bar 2 opens at 94 (beyond the TP) and later rises
    # to 106 (beyond the SL): the TP buy limit fills at the open 94: 10 * (100 - 94) = +60.
    rows = [ENTRY, ENTRY, (94.0, 106.0, 93.0, 104.0)]
    engine, rec = make_engine(
        bars(rows),
        Script({0: Signal.short(stop_loss=105.0, take_profit=95.0)}),
        sizer=FixedQuantity(qty=10.0),
        account="margin",
    )
    engine.run_sync()
    exit_ = rec.kinds("fill")[1]
    assert (exit_.price, exit_.role) == (94.0, "take_profit")
    assert rec.kinds("trade")[0].pnl == pytest.approx(60.0, abs=1e-9)


def test_bar_opening_between_the_legs_and_reaching_both_is_a_tie_the_stop_wins() -> None:
    # Bar 2 opens at 100, between SL 95 and TP 105, and ranges 94..106: either could have come
    # first, so the worse outcome is assumed: the stop at 95, -50.
    rows = [ENTRY, ENTRY, (100.0, 106.0, 94.0, 100.0)]
    _, fills, trades, _t = _run(rows, Signal.long(stop_loss=95.0, take_profit=105.0))
    assert (fills[1].price, fills[1].role) == (95.0, "stop_loss")
    assert trades[0].pnl == pytest.approx(-50.0, abs=1e-9)
