"""Buying power (issue 8 item 6): cash and margin accounts, checked at the fill price."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from papertape.engine.errors import ConfigError
from papertape.engine.execution.account import Account, round_to_lot
from papertape.engine.execution.fees import FeeSchedule
from papertape.engine.execution.orders import OrderType, Signal, Target
from papertape.plugins.sizers import FixedFraction, FixedQuantity
from tests.conftest import Script, bars, make_engine

# A gap up between the decision and the fill: the fraction sizer sizes on bar 0's close 100
# with all of the equity, bar 1 opens at 125.
GAP_UP = [
    (100.0, 100.0, 100.0, 100.0),  # bar 0: decide, sized at 100
    (125.0, 126.0, 124.0, 125.0),  # bar 1: fill at the open 125
    (125.0, 125.0, 125.0, 125.0),
]


def test_cash_account_shrinks_a_buy_that_a_gap_made_unaffordable() -> None:
    # Fraction 1.0 of 10,000 at the decision close 100 = 100 units. At the fill price 125 with
    # a 10 bp taker fee one unit costs 125 * 1.001 = 125.125, so cash buys
    # 10,000 / 125.125 = 79.92008 units (the old engine bought 100: cash -2,510).
    engine, rec = make_engine(
        bars(GAP_UP),
        Script({0: Signal.long()}),
        sizer=FixedFraction(fraction=1.0),
        fees=FeeSchedule(taker_bps=10.0),
    )
    engine.run_sync()
    (fill,) = rec.kinds("fill")
    assert fill.qty == pytest.approx(10_000 / 125.125, rel=1e-12)
    assert 0.0 <= fill.cash_after < 1e-9
    (veto,) = rec.kinds("veto")
    assert (veto.shield, veto.requested_qty) == ("buying_power", 100.0)
    assert veto.allowed_qty == fill.qty
    assert "cash" in veto.reason


def test_cash_account_cannot_short_a_flip_becomes_a_close() -> None:
    # Long 5 (bought at 100); a SHORT signal asks to sell 5 + 5. A cash account sells the 5
    # it holds and refuses the other 5.
    rows = [(100.0, 100.0, 100.0, 100.0)] * 4
    engine, rec = make_engine(
        bars(rows),
        Script({0: Signal.long(), 1: Signal.short()}),
        sizer=FixedQuantity(qty=5.0),
    )
    engine.run_sync()
    buy, sell = rec.kinds("fill")
    assert (buy.qty, sell.qty, sell.position_after) == (5.0, 5.0, 0.0)
    (veto,) = rec.kinds("veto")
    assert (veto.requested_qty, veto.allowed_qty) == (10.0, 5.0)
    assert veto.reason == "a cash account cannot sell short"


def test_margin_account_allows_a_short_up_to_its_leverage() -> None:
    # Margin 2x, equity 10,000: a short may reach 20,000 of gross exposure. Asking 300 units at
    # the fill price 100 (30,000) gets 200.
    rows = [(100.0, 100.0, 100.0, 100.0)] * 3
    engine, rec = make_engine(
        bars(rows),
        Script({0: Signal.short()}),
        sizer=FixedQuantity(qty=300.0),
        account=Account("margin", max_leverage=2.0),
    )
    engine.run_sync()
    (fill,) = rec.kinds("fill")
    assert fill.qty == pytest.approx(200.0, rel=1e-12)
    assert fill.position_after == pytest.approx(-200.0)
    assert rec.kinds("veto")[0].shield == "buying_power"


def test_margin_account_lets_a_long_borrow_up_to_its_leverage() -> None:
    # Margin 1.5x with a 10 bp fee: x units at 100 need 100x <= 1.5 * (10,000 - 0.1x), so
    # x <= 15,000 / 100.15 = 149.775...; cash ends at 10,000 - 100.1x < 0 (borrowed).
    rows = [(100.0, 100.0, 100.0, 100.0)] * 3
    engine, rec = make_engine(
        bars(rows),
        Script({0: Signal.long()}),
        sizer=FixedQuantity(qty=1_000.0),
        fees=FeeSchedule(taker_bps=10.0),
        account=Account("margin", max_leverage=1.5),
    )
    engine.run_sync()
    (fill,) = rec.kinds("fill")
    assert fill.qty == pytest.approx(15_000 / 100.15, rel=1e-12)
    assert fill.cash_after == pytest.approx(10_000 - 100.1 * fill.qty, rel=1e-12)


def test_closing_is_never_refused() -> None:
    # Margin 1x short 100 at 100; price doubles, equity 0: covering still fills in full.
    rows = [(100.0, 100.0, 100.0, 100.0)] * 2 + [(200.0, 200.0, 200.0, 200.0)] * 3
    engine, rec = make_engine(
        bars(rows),
        Script({0: Signal.short(), 2: Signal.flat()}),
        sizer=FixedQuantity(qty=100.0),
        account=Account("margin", max_leverage=1.0),
    )
    engine.run_sync()
    short, cover = rec.kinds("fill")
    assert (short.qty, cover.qty, cover.position_after) == (100.0, 100.0, 0.0)
    assert rec.kinds("veto") == []


def test_account_settings_are_validated() -> None:
    with pytest.raises(ConfigError, match=r"account\.type"):
        Account("credit")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"account\.max_leverage"):
        Account("margin", max_leverage=0.0)


def test_lot_size_rounds_down_to_whole_lots() -> None:
    assert round_to_lot(0.3, 0.1) == pytest.approx(0.3)  # 0.3 / 0.1 is 2.9999999999999996
    assert round_to_lot(149.9, 1.0) == 149.0
    assert round_to_lot(250.0, 100.0) == 200.0
    assert round_to_lot(7.25, 0.0) == 7.25
    # fraction 0.95 of 10,000 at 100 is 95 units; in lots of 10 that is 90
    engine, rec = make_engine(
        bars([(100.0, 100.0, 100.0, 100.0)] * 3),
        Script({0: Signal.long()}),
        sizer=FixedFraction(fraction=0.95, lot_size=10),
    )
    engine.run_sync()
    assert rec.kinds("fill")[0].qty == 90.0
    with pytest.raises(ConfigError, match="lot_size"):
        FixedQuantity(qty=1.0, lot_size=-1)


# ---------------------------------------------------------------------------------------------
# property: a cash account never goes below zero, whatever the gaps
# ---------------------------------------------------------------------------------------------

prices = st.floats(min_value=1.0, max_value=1_000.0, allow_nan=False)
signal_at = st.one_of(
    st.none(),
    st.builds(
        lambda target, kind, off, frac, sl, tp: Signal(
            target,
            order_type=kind,
            price=None if kind is OrderType.MARKET else off,
            size=frac,
            stop_loss=sl,
            take_profit=tp,
        ),
        st.sampled_from(list(Target)),
        st.sampled_from(list(OrderType)),
        prices,
        st.floats(min_value=0.05, max_value=1.0),
        st.one_of(st.none(), prices),
        st.one_of(st.none(), prices),
    ),
)


@st.composite
def gappy_bars(draw: st.DrawFn) -> list[tuple[float, float, float, float]]:
    """Bars whose opens jump anywhere from the previous close (gaps up and down)."""
    rows = []
    for _ in range(draw(st.integers(3, 25))):
        o, c = draw(prices), draw(prices)
        h = max(o, c) * draw(st.floats(1.0, 1.2))
        lo = min(o, c) * draw(st.floats(0.8, 1.0))
        rows.append((o, h, lo, c))
    return rows


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=gappy_bars(),
    plan=st.lists(signal_at, min_size=25, max_size=25),
    taker=st.floats(0.0, 50.0),
    maker=st.floats(0.0, 20.0),
    slip=st.floats(0.0, 100.0),
)
def test_cash_never_goes_below_zero(
    rows: list[tuple[float, float, float, float]],
    plan: list[Signal | None],
    taker: float,
    maker: float,
    slip: float,
) -> None:
    engine, rec = make_engine(
        bars(rows),
        Script(dict(enumerate(plan))),
        sizer=FixedFraction(fraction=1.0, max_fraction=1.0),
        fees=FeeSchedule(maker_bps=maker, taker_bps=taker),
        slippage_bps=slip,
    )
    engine.run_sync()
    pf = engine.slots[0].portfolio
    for f in rec.kinds("fill"):
        assert f.cash_after >= 0.0, f
        assert f.position_after >= 0.0, f  # no shorts in a cash account
    assert pf.cash >= 0.0
    assert all(p.qty > 0.0 for p in pf.positions.values())


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=gappy_bars(),
    plan=st.lists(signal_at, min_size=25, max_size=25),
    taker=st.floats(0.0, 50.0),
    lev=st.floats(0.5, 4.0),
)
def test_margin_opening_fills_respect_the_leverage(
    rows: list[tuple[float, float, float, float]],
    plan: list[Signal | None],
    taker: float,
    lev: float,
) -> None:
    engine, rec = make_engine(
        bars(rows),
        Script(dict(enumerate(plan))),
        sizer=FixedFraction(fraction=1.0, max_fraction=1.0),
        fees=FeeSchedule(taker_bps=taker),
        account=Account("margin", max_leverage=lev),
    )
    engine.run_sync()
    before = 0.0
    for f in rec.kinds("fill"):
        after = f.position_after
        if abs(after) > abs(before) or after * before < 0:  # added exposure
            equity = f.cash_after + after * f.price
            assert abs(after) * f.price <= lev * equity * (1 + 1e-9) + 1e-9, f
        before = after
