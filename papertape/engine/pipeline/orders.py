"""Order making: a decision becomes signals, a sized target, shield checks and orders."""

from __future__ import annotations

import math
from typing import Any

from papertape.engine.containment import as_signals
from papertape.engine.errors import StrategyError
from papertape.engine.events import OrderCancelled, OrderSubmitted, OrderVetoed, SignalEmitted
from papertape.engine.execution.orders import Order, OrderRole, OrderType, Side, Signal, Target
from papertape.engine.pipeline.state import STALE_FEED, EngineState, Slot
from papertape.engine.risk.base import OrderIntent
from papertape.engine.snapshot import Snapshot

__all__ = ["OrderDesk"]


class OrderDesk(EngineState):
    """Decisions to orders: sizing (or an external size), shields, submission."""

    def _decide(self, slot: Slot, decision: Any, snap: Snapshot) -> None:
        if not slot.enabled:
            return
        try:
            for sig in as_signals(decision):
                self._act(slot, sig, snap)
        except StrategyError as exc:
            self._fail(slot, exc, snap.time)

    def _act(self, slot: Slot, sig: Signal, snap: Snapshot) -> None:
        sym = sig.symbol or snap.symbol
        if sym not in self.marks:
            raise StrategyError(f"signal for {sym!r}, which has no price yet or is not in the run")
        t = snap.time
        self.unsettled.append(  # self.emit without a Python call (hot path)
            SignalEmitted(
                t,
                slot.id,
                sym,
                # the members' plain strings: orjson reads an enum's value through a Python
                # property, about 0.3 µs per field on every journaled event
                sig.target._value_,
                sig.order_type._value_,
                sig.price,
                sig.stop_loss,
                sig.take_profit,
                sig.size,
                sig.reason,
                snap.symbol,
            )
        )
        if self._arrived is not None:
            # a late (live) decision: the signal keeps the time of the snapshot it was taken
            # on, what it causes (orders, vetoes, cancels) carries the time it arrived
            t = self._arrived
        if sig.order_type is not OrderType.MARKET and not _positive(sig.price):
            raise StrategyError(
                f"{sig.order_type} signal needs a positive price, got {sig.price!r}"
            )
        pf = slot.portfolio
        current = pf.qty(sym)
        working = self.sim.working(slot.id, sym)
        has_entry = bool(working) and any(o.role is OrderRole.ENTRY for o in working)
        target = sig.target
        sizes = self._sizes  # set only while an outside driver steps with its own sizes
        external = sizes is not None and slot.id in sizes
        if (
            not has_entry
            and not (external and target is not Target.FLAT)
            and (
                (target is Target.LONG and current > 0)
                or (target is Target.SHORT and current < 0)
                or (target is Target.FLAT and current == 0.0)
            )
        ):
            return  # already there: no churn, brackets stay
        price = self.marks[sym]
        if target is Target.FLAT:
            goal = 0.0
        else:
            if external:
                assert sizes is not None
                qty = float(sizes[slot.id])
            else:
                qty = slot.sizer.target(sig, snap, slot.view, price)
            if not (qty >= 0.0 and math.isfinite(qty)):
                source = "the external size" if external else f"sizer {slot.sizer.name!r}"
                raise StrategyError(f"{source} returned {qty!r}")
            goal = qty if target is Target.LONG else -qty
        delta = goal - current
        negligible = abs(delta) <= 1e-12 * max(abs(goal), abs(current), 1.0)
        if snap.stale:  # live feed went quiet: no new orders, working ones stay as they are
            if not negligible or has_entry:
                self.emit(
                    OrderVetoed(
                        t,
                        slot.id,
                        sym,
                        1 if delta >= 0 else -1,
                        0.0 if negligible else abs(delta),
                        0.0,
                        STALE_FEED,
                        f"stale snapshot: {self.stale_why(snap)}; working orders kept",
                    )
                )
            return
        for o in self.sim.cancel(slot.id, sym):
            self.emit(OrderCancelled(t, slot.id, o.id, sym, "replaced by a new signal"))
        if negligible:
            return
        delta = self._shielded(slot, sym, delta, price, t)
        if delta == 0.0:
            return
        opening = goal != 0.0
        self._submit(
            slot,
            sym,
            delta,
            sig.order_type,
            OrderRole.ENTRY,
            t,
            sig.price,
            sig.stop_loss if opening else None,
            sig.take_profit if opening else None,
        )

    def stale_why(self, snap: Snapshot) -> str:
        """Why ``snap`` is stale (live engines know more than replay, where nothing is)."""
        return "feed stale"

    def _shielded(self, slot: Slot, sym: str, delta: float, price: float, t: int) -> float:
        if not slot.shields and not self.global_shields and not slot.halted:
            return delta
        pf = slot.portfolio
        requested = delta
        for sh in (*slot.shields, *self.global_shields):
            intent = OrderIntent(
                sym,
                delta,
                price,
                pf.qty(sym),
                pf.equity(self.marks),
                pf.gross_exposure(self.marks),
            )
            allowed, why = sh.allow(intent)
            if allowed != delta:
                self.emit(
                    OrderVetoed(
                        t,
                        slot.id,
                        sym,
                        1 if requested > 0 else -1,
                        abs(delta),
                        abs(allowed),
                        sh.name,
                        why,
                    )
                )
                delta = allowed
            if delta == 0.0:
                break
        if slot.halted and delta != 0.0:
            intent = OrderIntent(sym, delta, price, pf.qty(sym), 0.0, 0.0)
            delta = intent.reducing_part
        return delta

    def _submit(
        self,
        slot: Slot,
        sym: str,
        delta: float,
        kind: OrderType,
        role: OrderRole,
        t: int,
        price: float | None = None,
        stop_loss: float | None = None,
        take_profit: float | None = None,
    ) -> None:
        side = Side.BUY if delta > 0 else Side.SELL
        order = Order(
            self.sim.next_order_id(),
            slot.id,
            sym,
            side,
            abs(delta),
            kind,
            role,
            t,
            price,
            role is OrderRole.LIQUIDATION,  # reduce_only (positional: cheaper on the hot path)
            stop_loss,
            take_profit,
        )
        self.sim.submit(order)
        if self._replaying:
            i = self._index[sym]
            times = self.series[i].time
            nxt = self.counts[i]
            # The next bar of ``sym`` opened before this decision (another symbol or a finer
            # timeframe closed inside it): the order waits for a bar that opens after now.
            if nxt < len(times) and times[nxt] < self.now:
                self._not_before[order.id] = self.now
        self.unsettled.append(
            OrderSubmitted(
                t,
                slot.id,
                order.id,
                sym,
                int(side),
                order.qty,
                kind._value_,
                role._value_,
                price,
                stop_loss,
                take_profit,
            )
        )

    def _liquidate(self, slot: Slot, t: int, reason: str) -> None:
        for o in self.sim.cancel(slot.id):
            self.emit(OrderCancelled(t, slot.id, o.id, o.symbol, reason))
        for sym, pos in sorted(slot.portfolio.positions.items()):
            self._submit(slot, sym, -pos.qty, OrderType.MARKET, OrderRole.LIQUIDATION, t)


def _positive(x: float | None) -> bool:
    return x is not None and math.isfinite(x) and x > 0.0
