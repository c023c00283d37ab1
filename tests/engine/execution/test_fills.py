"""Fills and fees, each checked against arithmetic written out by hand."""

from __future__ import annotations

import pytest

from papertape.engine.execution.fees import FeeSchedule
from papertape.engine.execution.orders import OrderType, Signal
from papertape.plugins.sizers import FixedQuantity
from tests.conftest import Script, bars, make_engine

# o, h, l, c
ROWS = [
    (100.0, 101.0, 99.0, 100.0),  # bar 0: decision bar
    (102.0, 105.0, 98.0, 104.0),  # bar 1: first possible fill
    (104.0, 110.0, 103.0, 109.0),  # bar 2
    (109.0, 109.5, 90.0, 95.0),  # bar 3
]


def fills(rec):
    return rec.kinds("fill")


def test_market_buy_fills_at_next_open_with_taker_fee_and_slippage() -> None:
    engine, rec = make_engine(
        bars(ROWS),
        Script({0: Signal.long()}),
        sizer=FixedQuantity(qty=10.0),
        fees=FeeSchedule(maker_bps=2.0, taker_bps=10.0),
        slippage_bps=5.0,
    )
    engine.run_sync()
    (f,) = fills(rec)
    # decided on bar 0, filled at bar 1's open 102 pushed up 5 bp: 102 * 1.0005 = 102.051
    assert f.price == pytest.approx(102.051, abs=1e-12)
    assert f.time == engine.series[0].time[1]
    # fee: 10 * 102.051 * 10 bp = 1.02051; slippage cost 10 * 0.051 = 0.51
    assert f.fee == pytest.approx(1.02051, abs=1e-12)
    assert f.slippage == pytest.approx(0.51, abs=1e-9)
    assert f.liquidity == "taker"
    pf = engine.slots[0].portfolio
    assert pf.cash == pytest.approx(10_000 - 1020.51 - 1.02051, abs=1e-9)
    # final equity marked at last close 95: cash + 10 * 95
    assert pf.curve[-1] == pytest.approx(10_000 - 1020.51 - 1.02051 + 950.0, abs=1e-9)


def test_next_close_fill_mode_uses_the_next_bar_close() -> None:
    engine, rec = make_engine(bars(ROWS), Script({0: Signal.long()}), fill_at="next_close")
    engine.run_sync()
    assert fills(rec)[0].price == 104.0


def test_round_trip_pnl_is_net_of_both_fees() -> None:
    engine, rec = make_engine(
        bars(ROWS),
        Script({0: Signal.long(), 1: Signal.flat()}),
        sizer=FixedQuantity(qty=2.0),
        fees=FeeSchedule(taker_bps=10.0),
    )
    engine.run_sync()
    buy, sell = fills(rec)
    assert (buy.price, sell.price) == (102.0, 104.0)
    (trade,) = rec.kinds("trade")
    # (104 - 102) * 2 = 4.0; fees 0.204 + 0.208 = 0.412
    assert trade.pnl == pytest.approx(4.0 - 0.412, abs=1e-12)
    assert trade.fees == pytest.approx(0.412, abs=1e-12)
    pf = engine.slots[0].portfolio
    assert pf.cash == pytest.approx(10_000 + 4.0 - 0.412, abs=1e-9)
    assert pf.positions == {}


@pytest.mark.parametrize(
    ("limit", "expected_price", "fill_bar"),
    [
        (103.0, 102.0, 1),  # opens below the limit: gap fill at the open (better)
        (99.0, 99.0, 1),  # touched intrabar: at the limit
        (97.0, 97.0, 3),  # not reached on bar 1 or 2; bar 3 trades down to 90
    ],
)
def test_limit_buy(limit: float, expected_price: float, fill_bar: int) -> None:
    sig = Signal.long(order_type=OrderType.LIMIT, price=limit)
    engine, rec = make_engine(
        bars(ROWS), Script({0: sig}), fees=FeeSchedule(maker_bps=1.0, taker_bps=50.0)
    )
    engine.run_sync()
    (f,) = fills(rec)
    assert f.price == expected_price
    assert f.time == engine.series[0].time[fill_bar]
    assert f.liquidity == "maker"
    assert f.fee == pytest.approx(expected_price * 1e-4)


def test_limit_never_reached_does_not_fill() -> None:
    sig = Signal.long(order_type=OrderType.LIMIT, price=50.0)
    engine, rec = make_engine(bars(ROWS), Script({0: sig}))
    engine.run_sync()
    assert fills(rec) == []


def test_stop_buy_triggers_at_the_stop_or_the_gap() -> None:
    engine, rec = make_engine(
        bars(ROWS), Script({0: Signal.long(order_type=OrderType.STOP, price=108.0)})
    )
    engine.run_sync()
    (f,) = fills(rec)
    assert (f.price, f.time) == (108.0, engine.series[0].time[2])  # bar 2 high 110 >= 108
    engine, rec = make_engine(
        bars(ROWS), Script({0: Signal.long(order_type=OrderType.STOP, price=101.0)})
    )
    engine.run_sync()
    assert fills(rec)[0].price == 102.0  # bar 1 opens above the stop


def test_bracket_take_profit_then_stop_loss_cancelled() -> None:
    sig = Signal.long(stop_loss=95.0, take_profit=108.0)
    engine, rec = make_engine(bars(ROWS), Script({0: sig}))
    engine.run_sync()
    entry, exit_ = fills(rec)
    assert entry.price == 102.0
    assert (exit_.price, exit_.role) == (108.0, "take_profit")
    assert exit_.time == engine.series[0].time[2]
    assert engine.slots[0].portfolio.positions == {}
    assert engine.sim.pending["X"] == []  # the stop-loss leg went with the OCO


def test_bracket_checked_on_the_entry_bar_and_stop_wins_a_tie() -> None:
    # entry at bar 1 open 102; bar 1 ranges 98..105: both SL 99 and TP 105 are inside -> stop wins
    sig = Signal.long(stop_loss=99.0, take_profit=105.0)
    engine, rec = make_engine(bars(ROWS), Script({0: sig}))
    engine.run_sync()
    entry, exit_ = fills(rec)
    assert exit_.price == 99.0 and exit_.role == "stop_loss"
    assert exit_.time == entry.time


def test_short_with_fees_marks_negative_quantity() -> None:
    engine, _ = make_engine(
        bars(ROWS),
        Script({0: Signal.short()}),
        sizer=FixedQuantity(qty=3.0),
        fees=FeeSchedule(taker_bps=10.0),
        account="margin",  # a cash account cannot short
    )
    engine.run_sync()
    pf = engine.slots[0].portfolio
    # sold 3 at 102, fee 0.306; marked at 95: equity = cash - 3 * 95
    assert pf.qty("X") == -3.0
    assert pf.cash == pytest.approx(10_000 + 306.0 - 0.306)
    assert pf.curve[-1] == pytest.approx(10_000 + 306.0 - 0.306 - 285.0)


def test_no_fill_on_the_decision_bar() -> None:
    """Orders decided on the last bar never fill: there is no next bar."""
    engine, rec = make_engine(bars(ROWS), Script({3: Signal.long()}))
    engine.run_sync()
    assert rec.kinds("order") and fills(rec) == []


def test_volatility_slippage_uses_only_bars_before_the_fill() -> None:
    import math
    import statistics

    from papertape.engine.execution.simulator import ExecutionSimulator
    from papertape.engine.execution.slippage import VolatilitySlippage

    rows = [
        (100.0, 100.0, 100.0, 100.0),
        (100.0, 110.0, 100.0, 110.0),
        (110.0, 110.0, 99.0, 99.0),
        (99.0, 108.9, 99.0, 108.9),
        (120.0, 500.0, 1.0, 300.0),  # a wild fill bar: must not change the slippage
    ]
    engine, rec = make_engine(bars(rows), Script({3: Signal.long()}))
    engine.sim = engine.settings.simulator = ExecutionSimulator(
        slippage=VolatilitySlippage(k=0.5, window=20)
    )
    engine.run_sync()
    (f,) = fills(rec)
    sigma = statistics.stdev([math.log(1.1), math.log(0.9), math.log(1.1)])
    assert f.price == pytest.approx(120.0 * (1 + 0.5 * sigma), rel=1e-12)
