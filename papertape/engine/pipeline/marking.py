"""Marking and shields: equity per portfolio at each moment, shields that watch it.

Runs at each moment after the moment's fills and before its decisions, so shields judge the
orders decided at a moment against equity marked at that moment's prices.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from papertape.engine.events import EquityMarked, ShieldReleased, ShieldTripped
from papertape.engine.pipeline.state import GLOBAL, EngineState, Slot, TelemetryOutlet
from papertape.engine.risk.base import ShieldState

if TYPE_CHECKING:
    from papertape.engine.risk.base import Shield, Transition

__all__ = ["Marking"]


class Marking(EngineState):
    """Per-moment marking, shield transitions and telemetry samples."""

    def _plain_marking(self) -> bool:
        """True when marking is only equity = cash + positions (no shields, no periodic marks)."""
        return (
            not self.global_shields
            and not self.settings.mark_every
            and self.settings.telemetry is None
            and not any(slot.shields for slot in self.slots)
        )

    def _mark_step(self, t: int) -> None:
        self.step_count += 1
        step = self.step_count
        self.step_times.append(t)
        marks = self.marks
        total = 0.0
        for slot in self.slots:
            pf = slot.portfolio
            eq = pf.cash
            if pf.positions:
                slot.exposed_steps += 1
                for sym, pos in pf.positions.items():
                    eq += pos.qty * marks[sym]
            pf.curve.append(eq)
            total += eq
            for sh in slot.shields:
                tr = sh.on_step(eq, t, step)
                if tr is not None:
                    self._transition(slot, sh, tr, t)
        for sh in self.global_shields:
            tr = sh.on_step(total, t, step)
            if tr is not None:
                self._transition(None, sh, tr, t)
        channel = self.settings.telemetry
        if channel is not None and step % channel.every == 0:
            self._offer_telemetry(channel, t)
        every = self.settings.mark_every
        if every and step % every == 0:
            for slot in self.slots:
                self.emit(EquityMarked(t, slot.id, slot.portfolio.curve[-1], slot.portfolio.cash))

    def _offer_telemetry(self, channel: TelemetryOutlet, t: int) -> None:
        """Build this step's sample and offer it (dropped, not waited for, when full)."""
        from papertape.engine.telemetry import (  # type: ignore[import-not-found,import-untyped,unused-ignore]
            TelemetrySample,
        )

        channel.offer(
            TelemetrySample(
                time=t,
                wall_time=time.time(),
                equity={s.id: s.portfolio.curve[-1] for s in self.slots},
                positions={
                    s.id: {sym: p.qty for sym, p in s.portfolio.positions.items()}
                    for s in self.slots
                },
                marks=dict(self.marks),
                annotations={"regime": dict(self._regimes)} if self._regimes else {},
                lag_ns=self._lag_ns(),
            )
        )

    def _lag_ns(self) -> int | None:
        """Feed lag behind the wall clock (None in replay, where there is none)."""
        return None

    def _transition(self, slot: Slot | None, shield: Shield, tr: Transition, t: int) -> None:
        owner = slot.id if slot is not None else GLOBAL
        if tr.state is ShieldState.NORMAL:
            self.emit(ShieldReleased(t, owner, shield.name, tr.reason))
            return
        self.emit(ShieldTripped(t, owner, shield.name, tr.state.name.lower(), tr.reason))
        if tr.state is ShieldState.HALTED:
            for victim in self.slots if slot is None else [slot]:
                if not victim.halted:
                    victim.halted = True
                    self._liquidate(victim, t, f"halted by {shield.name}")
