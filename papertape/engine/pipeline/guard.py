"""Containment of user code: a failing strategy is counted, then switched off and flattened.

A strategy that raises is logged and counted; after ``max_strategy_errors`` failures it is
disabled and its positions are liquidated. It never takes the loop down. (Event consumers are
contained separately, as their own: :mod:`papertape.engine.delivery`.)
"""

from __future__ import annotations

import logging

from papertape.engine.events import StrategyDisabled, StrategyFailed
from papertape.engine.pipeline.state import EngineState, Slot

__all__ = ["StrategyGuard"]

log = logging.getLogger("papertape.engine")


class StrategyGuard(EngineState):
    """Counting and switching off strategies that fail."""

    def _fail(self, slot: Slot, exc: BaseException, t: int, disable: str = "") -> None:
        if not slot.enabled:
            return
        slot.errors += 1
        limit = self.settings.max_strategy_errors
        log.warning(
            "strategy %s raised %s: %s (%d/%d)",
            slot.id,
            type(exc).__name__,
            exc,
            slot.errors,
            limit,
            # the exception itself: an awaited decision's comes here outside any except block
            exc_info=exc if slot.errors == 1 else None,
        )
        self.emit(StrategyFailed(t, slot.id, f"{type(exc).__name__}: {exc}", slot.errors))
        if slot.errors >= limit or disable:
            slot.enabled = False
            # New lists, not in-place removal: the loop may be iterating one of them right now.
            self._subs[:] = [[x for x in lst if x is not slot] for lst in self._subs]
            why = disable or f"{slot.errors} errors (limit {limit})"
            self.emit(StrategyDisabled(t, slot.id, why))
            self._liquidate(slot, t, "strategy disabled")
