"""Execution and booking: working orders meet a bar; fills update the portfolio."""

from __future__ import annotations

from typing import TYPE_CHECKING

from papertape.engine.containment import CONTAINED
from papertape.engine.events import OrderCancelled, OrderFilled, TradeClosed
from papertape.engine.execution.orders import Order, OrderRole
from papertape.engine.pipeline.state import EngineState, Slot

if TYPE_CHECKING:
    from papertape.engine.events import Event
    from papertape.engine.execution.orders import Fill

__all__ = ["PRUNE_AT", "Booking"]

PRUNE_AT = 1024  # held-order entries kept before those of cancelled orders are dropped


class Booking(EngineState):
    """Fills of working orders on a bar, booked into portfolios."""

    def _execute(self, s: int, r: int, t: int) -> None:
        series = self.series[s]
        held: list[Order] = []
        if self._not_before:
            pending = self.sim.pending
            waiting = pending[series.symbol]
            not_before = self._not_before
            if len(not_before) > PRUNE_AT:  # held orders cancelled since: forget them
                working = {o.id for orders in pending.values() for o in orders}
                for oid in [k for k in not_before if k not in working]:
                    del not_before[oid]
            ready: list[Order] = []
            for o in waiting:
                after = not_before.get(o.id)
                if after is None:
                    ready.append(o)
                elif after > t:
                    held.append(o)
                else:
                    del not_before[o.id]
                    ready.append(o)
            if held:
                pending[series.symbol] = ready
        bar = (  # Python floats (ndarray.item: no numpy scalar in between)
            series.open.item(r),
            series.high.item(r),
            series.low.item(r),
            series.close.item(r),
        )
        by_id = self._by_id
        notices = self.sim.notices
        for fill in self.sim.on_bar(
            series.symbol,
            self.histories[s],
            r,
            t,
            bar,
            lambda strat, sym: by_id[strat].portfolio.qty(sym),
            self._buying_power,
        ):
            if notices:
                self._notify(notices)
            self._book(by_id[fill.strategy], fill)
        if notices:
            self._notify(notices)
        if held:
            self.sim.pending.setdefault(series.symbol, []).extend(held)

    def _notify(self, notices: list[Event]) -> None:
        """Emit the simulator's bracket and OCO events (in the order it made them)."""
        for event in notices:
            self.emit(event)
        notices.clear()

    def _book(self, slot: Slot, fill: Fill) -> None:
        pf = slot.portfolio
        step = self.step_count
        trades = pf.apply(fill, step)
        held = pf.qty(fill.symbol)
        emit = self.unsettled.append  # self.emit without a Python call per event (hot path)
        emit(
            OrderFilled(
                fill.time,
                slot.id,
                fill.order_id,
                fill.symbol,
                int(fill.side),
                fill.qty,
                fill.price,
                fill.fee,
                fill.slippage,
                fill.liquidity,
                fill.role._value_,  # a plain str (see OrderDesk._act)
                pf.cash,
                held,
            )
        )
        for tr in trades:
            emit(
                TradeClosed(
                    fill.time,
                    slot.id,
                    tr.symbol,
                    tr.side,
                    tr.qty,
                    tr.entry_time,
                    tr.entry_price,
                    tr.exit_price,
                    tr.pnl,
                    tr.fees,
                    tr.bars_held,
                )
            )
        shields = slot.shields
        if self.global_shields:
            shields = [*shields, *self.global_shields]
        for sh in shields:
            for tr in trades:
                t1 = sh.on_trade(tr, step)
                if t1 is not None:
                    self._transition(slot if sh in slot.shields else None, sh, t1, fill.time)
            t2 = sh.on_fill(fill, step)
            if t2 is not None:
                self._transition(slot if sh in slot.shields else None, sh, t2, fill.time)
        if shields:  # a transition may have acted on the books
            held = pf.qty(fill.symbol)
        if fill.role is OrderRole.ENTRY and held == 0.0:
            for o in self.sim.cancel(slot.id, fill.symbol):  # flat: orphaned brackets go
                self.emit(OrderCancelled(fill.time, slot.id, o.id, o.symbol, "position closed"))
        try:
            slot.strategy.on_fill(fill)
        except CONTAINED as exc:
            self._fail(slot, exc, fill.time)
