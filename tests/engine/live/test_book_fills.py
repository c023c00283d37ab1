"""Live fills: walking the book's depth, partial fills, taken liquidity, limits on the tape."""

from __future__ import annotations

import pytest

from papertape.engine.execution.book_fills import BookFillSimulator
from papertape.engine.execution.fees import FeeSchedule
from papertape.engine.execution.orders import Fill, Order, OrderRole, OrderType, Side
from papertape.engine.feeds.kraken.book import OrderBook
from papertape.engine.feeds.kraken.protocol import BookLevel, Trade, level_token

SYM = "X/USD"


def lv(price: float, qty: float) -> BookLevel:
    pt, qt = f"{price:.1f}", f"{qty:.8f}"
    return BookLevel(price, qty, pt, qt, level_token(pt, qt))


def book(asks: list[tuple[float, float]], bids: list[tuple[float, float]]) -> OrderBook:
    b = OrderBook(SYM)
    b.apply_snapshot([lv(p, q) for p, q in bids], [lv(p, q) for p, q in asks])
    b.valid = True
    return b


def order(
    oid: int,
    side: Side,
    qty: float,
    kind: OrderType = OrderType.MARKET,
    price: float | None = None,
    **kw: object,
) -> Order:
    return Order(oid, "s", SYM, side, qty, kind, OrderRole.ENTRY, 0, price, **kw)  # type: ignore[arg-type]


class Position:
    def __init__(self) -> None:
        self.qty = 0.0

    def __call__(self, strategy: str, symbol: str) -> float:
        return self.qty

    def book(self, fills: list[Fill]) -> list[Fill]:
        for f in fills:
            self.qty += f.qty * f.side
        return fills


def match(
    sim: BookFillSimulator, b: OrderBook | None, pos: Position, trade: Trade | None = None
) -> list[Fill]:
    return pos.book(list(sim.match(SYM, b, 5, pos, trade)))


def tprint(price: float, qty: float) -> Trade:
    return Trade(SYM, 1, price, qty, 1, 5)


BOOK = book(asks=[(101.0, 1.0), (102.0, 2.0), (104.0, 3.0)], bids=[(99.0, 1.0), (98.0, 5.0)])


def test_market_buy_walks_the_levels_at_their_prices() -> None:
    sim = BookFillSimulator(FeeSchedule(taker_bps=10.0))
    sim.submit(order(1, Side.BUY, 2.5))
    (fill,) = match(sim, BOOK, Position())
    assert fill.qty == 2.5
    assert fill.price == pytest.approx((1.0 * 101 + 1.5 * 102) / 2.5)
    assert fill.slippage == pytest.approx((fill.price - 101.0) * 2.5)  # against the touch
    assert fill.fee == pytest.approx(fill.price * 2.5 * 10e-4)
    assert fill.liquidity == "taker" and not sim.pending[SYM]


def test_market_sell_walks_the_bids() -> None:
    sim = BookFillSimulator()
    sim.submit(order(1, Side.SELL, 3.0))
    (fill,) = match(sim, BOOK, Position())
    assert fill.price == pytest.approx((99.0 + 2 * 98.0) / 3)


def test_an_order_larger_than_the_depth_fills_partially_and_waits_for_new_liquidity() -> None:
    sim = BookFillSimulator()
    pos = Position()
    sim.submit(order(1, Side.BUY, 10.0))
    (first,) = match(sim, BOOK, pos)
    assert first.qty == pytest.approx(6.0)  # everything visible
    (working,) = sim.pending[SYM]
    assert sim.remaining(working) == pytest.approx(4.0)
    # the same book again: that liquidity was taken by us, nothing more fills
    assert match(sim, BOOK, pos) == []
    # the exchange reports a new size at 102: only that is available again
    again = book(asks=[(101.0, 1.0), (102.0, 2.5), (104.0, 3.0)], bids=[(99.0, 1.0)])
    (second,) = match(sim, again, pos)
    assert second.qty == pytest.approx(2.5) and second.price == 102.0
    fresh = book(asks=[(105.0, 9.0)], bids=[(99.0, 1.0)])
    (third,) = match(sim, fresh, pos)
    assert third.qty == pytest.approx(1.5) and not sim.pending[SYM]
    assert pos.qty == pytest.approx(10.0)


def test_no_fill_without_a_valid_book() -> None:
    sim = BookFillSimulator()
    sim.submit(order(1, Side.BUY, 1.0))
    invalid = book(asks=[(101.0, 1.0)], bids=[(99.0, 1.0)])
    invalid.valid = False
    assert match(sim, invalid, Position()) == [] and match(sim, None, Position()) == []
    assert len(sim.pending[SYM]) == 1


def test_limit_fills_only_when_the_trade_stream_crosses_it() -> None:
    sim = BookFillSimulator(FeeSchedule(maker_bps=1.0))
    pos = Position()
    sim.submit(order(1, Side.BUY, 2.0, OrderType.LIMIT, 100.0))
    assert match(sim, BOOK, pos) == []  # not marketable (best ask 101): it rests
    assert match(sim, BOOK, pos, tprint(100.0, 5.0)) == []  # a touch is not a cross
    assert match(sim, BOOK, pos, tprint(100.5, 5.0)) == []
    (part,) = match(sim, BOOK, pos, tprint(99.9, 0.5))  # crossing, for the trade's size
    assert (part.qty, part.price, part.liquidity) == (0.5, 100.0, "maker")
    assert part.fee == pytest.approx(100.0 * 0.5 * 1e-4)
    (rest,) = match(sim, BOOK, pos, tprint(99.0, 10.0))
    assert rest.qty == pytest.approx(1.5) and not sim.pending[SYM]


def test_touch_mode_fills_at_the_limit_price_print() -> None:
    sim = BookFillSimulator(limit_fill="touch")
    sim.submit(order(1, Side.SELL, 1.0, OrderType.LIMIT, 103.0))
    match(sim, BOOK, Position())
    (fill,) = match(sim, BOOK, Position(), tprint(103.0, 1.0))
    assert fill.price == 103.0


def test_marketable_limit_takes_up_to_its_price_then_rests() -> None:
    sim = BookFillSimulator()
    pos = Position()
    sim.submit(order(1, Side.BUY, 5.0, OrderType.LIMIT, 102.0))
    (taken,) = match(sim, BOOK, pos)
    assert taken.qty == pytest.approx(3.0) and taken.liquidity == "taker"
    assert taken.price == pytest.approx((101.0 + 2 * 102.0) / 3)
    assert match(sim, BOOK, pos) == []  # resting now: only trades fill it
    (rest,) = match(sim, BOOK, pos, tprint(101.5, 9.0))
    assert rest.qty == pytest.approx(2.0) and (rest.price, rest.liquidity) == (102.0, "maker")


def test_stop_triggers_on_a_trade_and_fills_against_the_book() -> None:
    sim = BookFillSimulator()
    pos = Position()
    sim.submit(order(1, Side.BUY, 1.5, OrderType.STOP, 103.0))
    assert match(sim, BOOK, pos) == [] and match(sim, BOOK, pos, tprint(102.9, 1.0)) == []
    (fill,) = match(sim, BOOK, pos, tprint(103.0, 1.0))
    assert fill.price == pytest.approx((101.0 + 0.5 * 102.0) / 1.5)


def test_completed_entry_places_its_bracket_and_reduce_only_is_clipped() -> None:
    sim = BookFillSimulator()
    pos = Position()
    sim.submit(order(1, Side.BUY, 2.0, stop_loss=95.0, take_profit=110.0))
    (entry,) = match(sim, BOOK, pos)
    assert entry.qty == 2.0 and pos.qty == 2.0
    stop, target = sim.pending[SYM]
    assert (stop.type, stop.price, stop.qty, stop.reduce_only) == (OrderType.STOP, 95.0, 2.0, True)
    assert (target.type, target.price, target.oco_id) == (OrderType.LIMIT, 110.0, stop.id)
    pos.qty = 1.0  # the position shrank meanwhile: the exit sells no more than is held
    (exit_fill,) = match(sim, BOOK, pos, tprint(94.0, 5.0))
    assert exit_fill.qty == pytest.approx(1.0) and exit_fill.role is OrderRole.STOP_LOSS
    assert exit_fill.price == 99.0  # the stop sells into the bids
    assert pos.qty == pytest.approx(0.0)
    assert not target.active and sim.pending[SYM] == []  # OCO: the take-profit went too


def test_cancel_forgets_partial_state() -> None:
    sim = BookFillSimulator()
    sim.submit(order(1, Side.BUY, 10.0))
    match(sim, BOOK, Position())
    (o,) = sim.pending[SYM]
    assert sim.remaining(o) < 10.0
    assert sim.cancel("s", SYM) == [o]
    assert sim.remaining(o) == 10.0 and not sim.pending[SYM]
