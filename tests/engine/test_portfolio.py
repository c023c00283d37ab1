"""Portfolio accounting: hand-computed cases and the equity identity as a property."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from papertape.engine.execution.account import Account
from papertape.engine.execution.fees import FeeSchedule
from papertape.engine.execution.orders import Fill, OrderRole, Side, Signal
from papertape.engine.portfolio import Portfolio
from papertape.engine.strategy import Strategy
from papertape.plugins.sizers import FixedQuantity
from tests.conftest import flat_bars, make_engine


def fill(side: Side, qty: float, price: float, fee: float = 0.0, t: int = 0) -> Fill:
    return Fill(1, "s", "X", side, qty, price, fee, 0.0, "taker", OrderRole.ENTRY, t)


def test_add_reduce_close_by_hand() -> None:
    pf = Portfolio("s", 1000.0)
    pf.apply(fill(Side.BUY, 2, 10.0, fee=0.2), 0)  # cash 1000 - 20 - 0.2
    pf.apply(fill(Side.BUY, 2, 13.0, fee=0.2), 1)  # avg (20 + 26) / 4 = 11.5
    assert pf.positions["X"].avg_price == 11.5
    (t1,) = pf.apply(fill(Side.SELL, 1, 15.0, fee=0.1), 2)
    # price pnl (15 - 11.5) * 1 = 3.5; entry fees 0.4 * 1/4 = 0.1; exit fee 0.1
    assert t1.pnl == pytest.approx(3.3)
    assert pf.positions["X"].qty == 3
    (t2,) = pf.apply(fill(Side.SELL, 3, 11.0, fee=0.3), 3)
    # (11 - 11.5) * 3 = -1.5; entry fees 0.3; exit 0.3
    assert t2.pnl == pytest.approx(-2.1)
    assert pf.positions == {}
    assert pf.cash == pytest.approx(1000 - 20.2 - 26.2 + 14.9 + 32.7)
    assert pf.cash - 1000 == pytest.approx(t1.pnl + t2.pnl)


def test_flip_closes_then_opens_the_other_way() -> None:
    pf = Portfolio("s", 0.0)
    pf.apply(fill(Side.BUY, 1, 100.0, fee=1.0), 0)
    (trade,) = pf.apply(fill(Side.SELL, 3, 110.0, fee=3.0), 5)
    assert trade.qty == 1 and trade.pnl == pytest.approx(10 - 1 - 1)
    assert trade.bars_held == 5
    pos = pf.positions["X"]
    assert (pos.qty, pos.avg_price, pos.entry_fees) == (-2, 110.0, pytest.approx(2.0))


class RandomTrader(Strategy):
    """Trades a pre-drawn sequence of targets."""

    name = "random_trader"

    def __init__(self, targets: list[int]) -> None:
        super().__init__()
        self.targets = targets
        self.i = 0
        self.seen: list[tuple[float, dict[str, float]]] = []

    def on_bar(self, snap: Any, portfolio: Any) -> Signal | None:
        # the state a decision sees is the state the step is marked with (fills come later)
        self.seen.append((portfolio.cash, dict(portfolio.positions)))
        t = self.targets[self.i % len(self.targets)]
        self.i += 1
        return [None, Signal.long(), Signal.short(), Signal.flat()][t]


@settings(max_examples=60, deadline=None)
@given(
    closes=st.lists(st.floats(0.5, 500.0, allow_nan=False), min_size=3, max_size=60),
    targets=st.lists(st.integers(0, 3), min_size=1, max_size=20),
    qty=st.floats(0.01, 50.0),
    fee_bps=st.floats(0.0, 100.0),
    slip=st.floats(0.0, 50.0),
)
def test_equity_identity_at_every_step(
    closes: list[float], targets: list[int], qty: float, fee_bps: float, slip: float
) -> None:
    """At every step: equity == cash + Σ qty × close; and the money adds up from the fills."""
    trader = RandomTrader(targets)
    engine, rec = make_engine(
        flat_bars(closes),
        trader,
        sizer=FixedQuantity(qty=qty),
        fees=FeeSchedule(taker_bps=fee_bps, maker_bps=fee_bps),
        slippage_bps=slip,
        cash=10_000.0,
        # margin with no practical limit: shorts, flips and borrowing all reach the books
        account=Account("margin", max_leverage=1e9),
    )
    engine.run_sync()
    snapshots = trader.seen
    pf = engine.slots[0].portfolio
    assert len(pf.curve) == len(closes) == len(snapshots)
    for i, (eq, (cash, pos)) in enumerate(zip(pf.curve, snapshots, strict=True)):
        assert eq == cash + sum(q * closes[i] for q in pos.values())
    # cash rebuilt independently from the fills, in exact decimal arithmetic
    cash = Decimal(10_000)
    for f in rec.kinds("fill"):
        cash -= Decimal(f.side) * Decimal(f.qty) * Decimal(f.price) + Decimal(f.fee)
    assert math.isclose(float(cash), pf.cash, rel_tol=1e-12, abs_tol=1e-9)
    # P&L attribution: closed trades + open position's unrealised − its unallocated entry fees
    unreal = sum((closes[-1] - p.avg_price) * p.qty - p.entry_fees for p in pf.positions.values())
    total = sum(t.pnl for t in pf.trades) + unreal
    assert math.isclose(total, pf.curve[-1] - 10_000.0, rel_tol=1e-9, abs_tol=1e-6)
