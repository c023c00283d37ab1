"""The execution simulator: fills working orders against the bar that follows their decision.

Fill conventions (documented in the README):

* An order decided on bar ``t`` (at its close) first meets bar ``t+1`` of its symbol. With the
  default ``fill_at="next_open"`` a market order fills at ``open[t+1]``; with ``"next_close"``
  at ``close[t+1]``. No order ever fills on the bar it was decided on.
* Limit buy at ``L``: fills at ``open`` if the bar opens at or below ``L`` (gap), else at ``L``
  if ``low <= L``. Sell mirrors it. Limit fills are maker, without slippage.
* Stop buy at ``S``: triggers at ``open`` if the bar opens at or above ``S``, else at ``S`` if
  ``high >= S``, plus slippage. Sell mirrors it. Stop and market fills are taker.
* Brackets: when an entry carrying ``stop_loss``/``take_profit`` fills, a reduce-only stop and a
  reduce-only limit are placed as one OCO pair. An entry filled at the bar's open (a market
  order, or a limit/stop the bar gapped through) has its legs checked on the rest of that bar;
  an entry filled inside the bar (a limit or stop touched intrabar) or at the close has them
  start on the next bar, since the bar's high and low may have come before the entry.
* Tie rule: a bar that *opens* beyond a leg fills that leg at the open. Only when the open is
  between the legs and the range reaches both could either have come first; then the stop-loss
  wins (bars carry no intrabar order, so the simulator assumes the worse outcome).
* Reduce-only orders are clipped to the position at fill time and dropped when nothing is left.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Literal

from papertape.engine.events import BracketPlaced, Event, OcoCancelled
from papertape.engine.execution.account import Account
from papertape.engine.execution.fees import FeeSchedule
from papertape.engine.execution.orders import Fill, Order, OrderRole, OrderType, Side
from papertape.engine.execution.slippage import FixedSlippage, SlippageModel

if TYPE_CHECKING:
    from papertape.engine.market import SymbolHistory

__all__ = ["ExecutionSimulator", "FillAt"]

FillAt = Literal["next_open", "next_close"]
PositionLookup = Callable[[str, str], float]  # (strategy, symbol) -> signed qty
# (account, fees, order, qty, fill price, taker, time) -> quantity the account can take
Affordability = Callable[[Account, FeeSchedule, Order, float, float, bool, int], float]


class ExecutionSimulator:
    """Holds working orders per symbol and fills them bar by bar."""

    __slots__ = ("_next_id", "account", "fees", "fill_at", "notices", "pending", "slippage")

    def __init__(
        self,
        fees: FeeSchedule | None = None,
        slippage: SlippageModel | None = None,
        fill_at: FillAt = "next_open",
        account: Account | None = None,
    ) -> None:
        self.fees = fees or FeeSchedule()
        self.account = account or Account()
        self.slippage: SlippageModel = slippage or FixedSlippage()
        self.fill_at = fill_at
        self.pending: dict[str, list[Order]] = {}
        # Bracket legs placed and OCO siblings cancelled, as events, for the engine to emit
        # (it drains them around each fill it books, so they keep their place in the stream).
        self.notices: list[Event] = []
        self._next_id = 1

    def _priced_fill(
        self, order: Order, qty: float, price: float, ref: float, taker: bool, time: int
    ) -> Fill:
        """``qty`` of ``order`` at ``price``: the fee on its notional, the slippage against ``ref``.

        ``ref`` is the price before slippage (the bar's price, or the best level of the book);
        a taker fill pays the taker fee, a resting one the maker fee.
        """
        return Fill(
            order.id,
            order.strategy,
            order.symbol,
            order.side,
            qty,
            price,
            self.fees.fee(qty * price, taker),
            abs(price - ref) * qty,
            "taker" if taker else "maker",
            order.role,
            time,
        )

    def next_order_id(self) -> int:
        """Allocate a run-unique order id (deterministic: a counter)."""
        oid = self._next_id
        self._next_id += 1
        return oid

    def submit(self, order: Order) -> None:
        """Queue an order; it can fill from the next bar of its symbol on."""
        self.pending.setdefault(order.symbol, []).append(order)

    def working(self, strategy: str, symbol: str) -> list[Order]:
        """Active orders of ``strategy`` in ``symbol``."""
        return [o for o in self.pending.get(symbol, ()) if o.strategy == strategy and o.active]

    def cancel(self, strategy: str, symbol: str | None = None) -> list[Order]:
        """Cancel a strategy's working orders (in one symbol, or all); return them."""
        cancelled: list[Order] = []
        for sym, orders in self.pending.items():
            if symbol is not None and sym != symbol:
                continue
            keep = []
            for o in orders:
                if o.strategy == strategy and o.active:
                    o.active = False
                    cancelled.append(o)
                else:
                    keep.append(o)
            orders[:] = keep
        return cancelled

    def on_bar(
        self,
        symbol: str,
        history: SymbolHistory,
        prior_count: int,
        time: int,
        bar: tuple[float, float, float, float],
        position: PositionLookup,
        afford: Affordability | None = None,
    ) -> Iterator[Fill]:
        """Fill the symbol's working orders on one bar ``(open, high, low, close)``.

        ``prior_count`` is the number of bars before this one (slippage models look only at
        those). Fills are yielded one at a time; the caller books each before the next is
        computed, so reduce-only clipping and the buying-power check (``afford``, asked for
        every fill that is not reduce-only) see the current position and cash. An order the
        account cannot pay for at all is dropped; a partly affordable one fills that part.
        """
        orders = self.pending.get(symbol)
        if not orders:
            return
        o, h, lo, c = bar
        slip = -1.0  # computed on the first taker fill only: resting limits never need it
        queue = list(orders)
        orders.clear()
        i = 0
        while i < len(queue):
            order = queue[i]
            i += 1
            if not order.active:
                continue
            price, taker = self._match(order, o, h, lo, c)
            if price is None:
                orders.append(order)  # still working
                continue
            if order.oco_id is not None:
                order, price, taker = self._first_leg(order, price, taker, queue, orders, bar)
            qty = order.qty
            if order.reduce_only:
                held = position(order.strategy, symbol)
                if held == 0.0 or (held > 0) == (order.side is Side.BUY):
                    order.active = False
                    continue
                qty = min(qty, abs(held))
            ref = price
            if taker and slip < 0.0:
                slip = self.slippage.fraction(history, prior_count)
            if taker and slip:
                price = ref * (1.0 + slip) if order.side is Side.BUY else ref * (1.0 - slip)
            if afford is not None and not order.reduce_only:
                qty = afford(self.account, self.fees, order, qty, price, taker, time)
                if qty <= 0.0:
                    order.active = False
                    continue
            fill = self._priced_fill(order, qty, price, ref, taker, time)
            order.active = False
            sibling = None
            if order.oco_id is not None:
                sibling = _find(queue, order.oco_id) or _find(orders, order.oco_id)
                if sibling is not None:
                    sibling.active = False
            yield fill
            if sibling is not None:
                self.notices.append(
                    OcoCancelled(time, order.strategy, symbol, sibling.id, order.id)
                )
            if order.role is OrderRole.ENTRY and (order.stop_loss or order.take_profit):
                children = self._bracket(order, qty, time)
                stop = next((x for x in children if x.role is OrderRole.STOP_LOSS), None)
                target = next((x for x in children if x.role is OrderRole.TAKE_PROFIT), None)
                self.notices.append(
                    BracketPlaced(
                        time,
                        order.strategy,
                        symbol,
                        order.id,
                        None if stop is None else stop.id,
                        None if stop is None else stop.price,
                        None if target is None else target.id,
                        None if target is None else target.price,
                    )
                )
                if self.fill_at == "next_open" and ref == o:
                    queue.extend(children)  # filled at the open: the rest of this bar follows
                else:
                    # Filled inside the bar (a limit or stop touched) or at its close: the
                    # bar's range may have come before the entry, so the legs start next bar.
                    orders.extend(children)
        orders[:] = [x for x in orders if x.active]

    def _first_leg(
        self,
        leg: Order,
        price: float,
        taker: bool,
        queue: list[Order],
        orders: list[Order],
        bar: tuple[float, float, float, float],
    ) -> tuple[Order, float, bool]:
        """Decide which leg of an OCO pair that both meet this bar filled first.

        A leg the bar *opens* beyond fills at the open, before anything else in the bar. Only
        when neither (or, for odd brackets, both) filled at the open could either have come
        first; bars carry no intrabar order, so the stop-loss wins that tie.
        """
        assert leg.oco_id is not None
        other = _find(queue, leg.oco_id) or _find(orders, leg.oco_id)
        if other is None or not other.active:
            return leg, price, taker
        o, h, lo, c = bar
        other_price, other_taker = self._match(other, o, h, lo, c)
        if other_price is None:
            return leg, price, taker
        leg_at_open, other_at_open = price == o, other_price == o
        if other_at_open and not leg_at_open:
            return other, other_price, other_taker
        if leg_at_open == other_at_open and other.role is OrderRole.STOP_LOSS:
            return other, other_price, other_taker
        return leg, price, taker

    def _match(
        self, order: Order, o: float, h: float, lo: float, c: float
    ) -> tuple[float | None, bool]:
        """Return (reference fill price or None, is_taker) for one order on one bar."""
        kind = order.type
        if kind is OrderType.MARKET:
            return (o if self.fill_at == "next_open" else c), True
        p = order.price
        assert p is not None
        buy = order.side is Side.BUY
        if kind is OrderType.LIMIT:
            if buy:
                return (o, False) if o <= p else ((p, False) if lo <= p else (None, False))
            return (o, False) if o >= p else ((p, False) if h >= p else (None, False))
        if buy:
            return (o, True) if o >= p else ((p, True) if h >= p else (None, True))
        return (o, True) if o <= p else ((p, True) if lo <= p else (None, True))

    def _bracket(self, entry: Order, qty: float, time: int) -> list[Order]:
        exit_side = Side.SELL if entry.side is Side.BUY else Side.BUY
        exits = (
            (entry.stop_loss, OrderType.STOP, OrderRole.STOP_LOSS),
            (entry.take_profit, OrderType.LIMIT, OrderRole.TAKE_PROFIT),
        )
        legs = [
            Order(
                self.next_order_id(),
                entry.strategy,
                entry.symbol,
                exit_side,
                qty,
                kind,
                role,
                time,
                price,
                reduce_only=True,
            )
            for price, kind, role in exits
            if price
        ]
        if len(legs) == 2:
            # The stop-loss leg comes first and keeps that place in the working list, so when
            # both legs could trigger inside one bar the stop is matched (and wins) first.
            legs[0].oco_id, legs[1].oco_id = legs[1].id, legs[0].id
        return legs


def _find(orders: list[Order], order_id: int) -> Order | None:
    for x in orders:
        if x.id == order_id:
            return x
    return None
