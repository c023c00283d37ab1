"""Live fills: market orders walk the order book's depth, limit orders wait for the tape.

Conventions of :class:`BookFillSimulator` (live mode; replays use
:class:`~engine.execution.simulator.ExecutionSimulator`'s bar conventions):

* **Market** orders (and triggered stops) fill at once against the book as it stands after
  the decision: level by level from the touch, at each level's price, up to its size. The fill
  is one :class:`~engine.execution.orders.Fill` at the volume-weighted price; ``slippage`` is
  what walking the book cost against the touch, ``(vwap - touch) × qty``. When the visible
  depth is smaller than the order, the fill is **partial** and the rest stays working.
* Paper orders take no real liquidity, so the simulator remembers what it took from each
  level and does not take it twice; a level becomes available again when the exchange reports
  a new size for it (any book message that changes that level).
* **Limit** orders first fill as takers against levels at or better than their price
  (marketable part), then rest. A resting limit fills only when the **trade stream crosses**
  it: a buy at ``L`` fills on a trade below ``L`` (``limit_fill="touch"``: at or below), at
  ``L``, maker, for at most the trade's size (partial fills).
* **Stop** orders trigger when a trade prints at or through the stop, then fill like market
  orders.
* No fill happens while the book is invalid (disconnected, or awaiting a snapshot after a
  checksum mismatch): orders wait for a trustworthy book.
* Brackets: when an entry with stop-loss/take-profit is completely filled, its reduce-only OCO
  pair is placed (stop first); when one leg is completely filled the other is cancelled.
  Reduce-only orders are clipped to the position at fill time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Literal, Protocol

from papertape.engine.execution.account import Account
from papertape.engine.execution.fees import FeeSchedule
from papertape.engine.execution.orders import Fill, Order, OrderRole, OrderType, Side
from papertape.engine.execution.simulator import Affordability, ExecutionSimulator
from papertape.engine.execution.slippage import FixedSlippage

__all__ = ["BookFillSimulator", "DepthBook", "DepthLevel", "LimitFill", "TradePrint"]

LimitFill = Literal["through", "touch"]
PositionLookup = Callable[[str, str], float]
_EPS = 1e-12
_CONSUMED_CAP = 4096  # remembered level consumptions before the memory is reset


class DepthLevel(Protocol):
    """One price level as the book provides it (``qty_text`` identifies a reported size)."""

    @property
    def price(self) -> float:
        """Level price."""

    @property
    def qty(self) -> float:
        """Size at the level."""

    @property
    def qty_text(self) -> str:
        """The size as reported; a new report means new liquidity."""


class DepthBook(Protocol):
    """An order book: best-first levels per side, and whether it can be trusted."""

    @property
    def bids(self) -> Sequence[DepthLevel]:
        """Bids, best (highest) first."""

    @property
    def asks(self) -> Sequence[DepthLevel]:
        """Asks, best (lowest) first."""

    @property
    def valid(self) -> bool:
        """False while the book is not synchronised with the exchange."""


class TradePrint(Protocol):
    """A trade from the exchange's trade stream."""

    @property
    def price(self) -> float:
        """Trade price."""

    @property
    def qty(self) -> float:
        """Trade size."""


class BookFillSimulator(ExecutionSimulator):
    """Fills live orders against book depth (market, stop) and the trade stream (limit)."""

    __slots__ = ("_consumed", "_left", "_resting", "_triggered", "limit_fill")

    def __init__(
        self,
        fees: FeeSchedule | None = None,
        limit_fill: LimitFill = "through",
        account: Account | None = None,
    ) -> None:
        super().__init__(fees, FixedSlippage(0.0), "next_open", account)
        self.limit_fill = limit_fill
        self._left: dict[int, float] = {}  # order id -> quantity still to fill
        self._consumed: dict[tuple[str, int, float], tuple[str, float]] = {}
        self._resting: set[int] = set()  # limit orders past their marketable check
        self._triggered: set[int] = set()  # stop orders whose trigger printed

    def remaining(self, order: Order) -> float:
        """Quantity of ``order`` not filled yet."""
        return self._left.get(order.id, order.qty)

    def cancel(self, strategy: str, symbol: str | None = None) -> list[Order]:
        """Cancel working orders (as the base class) and forget their partial state."""
        gone = super().cancel(strategy, symbol)
        for o in gone:
            self._forget(o)
        return gone

    def _forget(self, order: Order) -> None:
        self._left.pop(order.id, None)
        self._resting.discard(order.id)
        self._triggered.discard(order.id)

    def match(
        self,
        symbol: str,
        book: DepthBook | None,
        time: int,
        position: PositionLookup,
        trade: TradePrint | None = None,
        afford: Affordability | None = None,
    ) -> Iterator[Fill]:
        """Fill what the current book (and, when given, a new trade) allows.

        Call after a decision round (market orders), on each book change (waiting market
        orders, stops) and on each trade (limits, stop triggers). Fills are yielded one at a
        time; the caller books each before the next is computed. ``afford`` is the account's
        buying-power check (see ``ExecutionSimulator.on_bar``): a fill it cuts ends its order.
        """
        orders = self.pending.get(symbol)
        if not orders:
            return
        queue = list(orders)
        orders.clear()
        for order in queue:
            if not order.active:
                continue
            fill = self._fill(order, book, time, position, trade)
            if fill is not None and afford is not None and not order.reduce_only:
                fill = self._afforded(fill, order, afford, time)
            if order.active:
                orders.append(order)
            if fill is None:
                continue
            if not order.active and order.oco_id is not None:
                for other in (*queue, *orders):
                    if other.id == order.oco_id and other.active:
                        other.active = False  # one bracket leg done: the other goes
                        self._forget(other)
            yield fill
            if (
                not order.active
                and order.role is OrderRole.ENTRY
                and (order.stop_loss or order.take_profit)
            ):
                orders.extend(self._bracket(order, order.qty, time))
        orders[:] = [o for o in orders if o.active]

    def _fill(
        self,
        order: Order,
        book: DepthBook | None,
        time: int,
        position: PositionLookup,
        trade: TradePrint | None,
    ) -> Fill | None:
        left = self._left.get(order.id, order.qty)
        if order.reduce_only:
            held = position(order.strategy, order.symbol)
            if held == 0.0 or (held > 0) == (order.side is Side.BUY):
                order.active = False
                self._forget(order)
                return None
            left = min(left, abs(held))
        buy = order.side is Side.BUY
        kind = order.type
        if kind is OrderType.MARKET:
            return self._take(order, left, book, time, None)
        p = order.price
        assert p is not None
        if kind is OrderType.STOP:
            if order.id not in self._triggered:
                if trade is None or (trade.price < p if buy else trade.price > p):
                    return None
                self._triggered.add(order.id)
            return self._take(order, left, book, time, None)
        if order.id not in self._resting:
            self._resting.add(order.id)
            taken = self._take(order, left, book, time, p)
            if taken is not None:
                return taken
        if trade is None:
            return None
        tp = trade.price
        if self.limit_fill == "touch":
            crossed = tp <= p if buy else tp >= p
        else:
            crossed = tp < p if buy else tp > p
        if not crossed:
            return None
        qty = min(left, trade.qty)
        return self._book_fill(order, qty, left, p, p, False, time)

    def _afforded(self, fill: Fill, order: Order, afford: Affordability, time: int) -> Fill | None:
        """The part of ``fill`` the account pays for; a cut fill ends its order."""
        taker = fill.liquidity == "taker"
        qty = afford(self.account, self.fees, order, fill.qty, fill.price, taker, time)
        if qty >= fill.qty:
            return fill
        order.active = False
        self._forget(order)
        if qty <= 0.0:
            return None
        notional = qty * fill.price
        return replace(
            fill,
            qty=qty,
            fee=self.fees.fee(notional, taker),
            slippage=fill.slippage * qty / fill.qty,
        )

    def _take(
        self, order: Order, left: float, book: DepthBook | None, time: int, cap: float | None
    ) -> Fill | None:
        if book is None or not book.valid:
            return None
        buy = order.side is Side.BUY
        levels = book.asks if buy else book.bids
        if not levels:
            return None
        if len(self._consumed) > _CONSUMED_CAP:
            self._consumed.clear()
        side_key = 1 if buy else -1
        filled = cost = 0.0
        for lv in levels:
            px = lv.price
            if cap is not None and (px > cap if buy else px < cap):
                break
            key = (order.symbol, side_key, px)
            used = self._consumed.get(key)
            taken = used[1] if used is not None and used[0] == lv.qty_text else 0.0
            avail = lv.qty - taken
            if avail <= _EPS:
                continue
            q = min(avail, left - filled)
            filled += q
            cost += q * px
            self._consumed[key] = (lv.qty_text, taken + q)
            if left - filled <= _EPS * max(1.0, left):
                break
        if filled <= 0.0:
            return None
        return self._book_fill(order, filled, left, cost / filled, levels[0].price, True, time)

    def _book_fill(
        self,
        order: Order,
        qty: float,
        left: float,
        price: float,
        ref: float,
        taker: bool,
        time: int,
    ) -> Fill:
        rest = left - qty
        if rest <= _EPS * max(1.0, left):
            order.active = False
            self._forget(order)
        else:
            self._left[order.id] = self._left.get(order.id, order.qty) - qty
        return self._priced_fill(order, qty, price, ref, taker, time)
