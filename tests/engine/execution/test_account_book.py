"""Buying power in live mode: book fills go through the same account check as replay."""

from __future__ import annotations

import pytest

from papertape.engine.events import OrderVetoed
from papertape.engine.execution.account import Account, BuyingPower
from papertape.engine.execution.book_fills import BookFillSimulator
from papertape.engine.execution.fees import FeeSchedule
from papertape.engine.execution.orders import Order, OrderRole, OrderType, Side
from papertape.engine.feeds.kraken.book import OrderBook
from papertape.engine.feeds.kraken.protocol import BookLevel, level_token
from papertape.engine.portfolio import Portfolio

SYM = "X/USD"


def _book(asks: list[tuple[float, float]]) -> OrderBook:
    def lv(price: float, qty: float) -> BookLevel:
        pt, qt = f"{price:.1f}", f"{qty:.8f}"
        return BookLevel(price, qty, pt, qt, level_token(pt, qt))

    b = OrderBook(SYM)
    b.apply_snapshot([lv(90.0, 5.0)], [lv(p, q) for p, q in asks])
    b.valid = True
    return b


def test_a_market_buy_walking_the_book_is_cut_to_the_cash_and_ends() -> None:
    # Cash 300, buy 4: the book gives 1 @ 100 and 3 @ 110, average (100 + 330) / 4 = 107.5,
    # 430 in all. With a 10 bp taker fee one unit costs 107.5 * 1.001 = 107.6075, so cash
    # pays 300 / 107.6075 = 2.78791 units; the rest of the order is cancelled.
    pf = Portfolio("s", 300.0)
    events: list[OrderVetoed] = []
    afford = BuyingPower({"s": pf}, {}, events.append)  # type: ignore[arg-type]
    sim = BookFillSimulator(FeeSchedule(taker_bps=10.0), account=Account())
    sim.submit(Order(1, "s", SYM, Side.BUY, 4.0, OrderType.MARKET, OrderRole.ENTRY, 0))
    fills = list(
        sim.match(SYM, _book([(100.0, 1.0), (110.0, 3.0)]), 5, lambda s, y: 0.0, None, afford)
    )
    (fill,) = fills
    assert fill.qty == pytest.approx(300.0 / 107.6075, rel=1e-12)
    assert fill.price == pytest.approx(107.5)
    assert fill.fee == pytest.approx(fill.qty * 107.5 * 1e-3)
    pf.apply(fill, 0)
    assert 0.0 <= pf.cash < 1e-9
    assert sim.pending[SYM] == []  # nothing left working
    (veto,) = events
    assert (veto.shield, veto.requested_qty) == ("buying_power", 4.0)
