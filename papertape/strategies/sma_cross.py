"""SMA crossover: long when the fast average is above the slow one, flat (or short) below."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from papertape.engine.errors import ConfigError
from papertape.engine.execution.orders import Signal, Target
from papertape.engine.indicators import SMA
from papertape.engine.strategy import Strategy, StrategyContext, TargetMemory

if TYPE_CHECKING:
    from papertape.engine.portfolio import PortfolioView
    from papertape.engine.snapshot import Snapshot

__all__ = ["ENTRIES", "SmaCross"]

ENTRIES = ("cross", "trend")  # the values of ``params.entry``


class SmaCross(Strategy):
    """Classic moving-average crossover on closes.

    Parameters:

    * ``fast``, ``slow``: window lengths (bars), ``0 < fast < slow``;
    * ``allow_short``: the side below is a short instead of flat;
    * ``entry``: ``"cross"`` (default) signals only on a cross, so a run (or an arena or
      walk-forward window, whose first bars are warm-up) stays flat until the first cross it
      may trade, even when the fast average has been above the slow one for days.
      ``"trend"`` takes the side of the current state on the first bar it may trade (the
      first bar with both averages, or the window's first bar), then signals on every
      cross. A stance seen in the warm-up is not counted as held (:class:`TargetMemory`).

    A position is held between crosses.
    """

    name: ClassVar[str] = "sma_cross"
    defaults: ClassVar[dict[str, Any]] = {
        "fast": 10,
        "slow": 30,
        "allow_short": False,
        "entry": "cross",
    }

    def validate(self) -> None:
        """``0 < fast < slow``; ``entry`` is "cross" or "trend"."""
        if self.p.fast < 1:
            raise ConfigError("params.fast", self.p.fast, "must be >= 1")
        if self.p.slow <= self.p.fast:
            raise ConfigError("params.slow", self.p.slow, f"must be > fast ({self.p.fast})")
        if self.p.entry not in ENTRIES:
            raise ConfigError("params.entry", self.p.entry, 'must be "cross" or "trend"')

    def on_start(self, ctx: StrategyContext) -> None:
        """One pair of averages and a last-side memory per symbol."""
        self._fast = {s: SMA(self.p.fast) for s in ctx.symbols}
        self._slow = {s: SMA(self.p.slow) for s in ctx.symbols}
        self._above: dict[str, bool | None] = dict.fromkeys(ctx.symbols)
        self._targets = TargetMemory(ctx)  # entry = "trend": forgets the warm-up's stance
        self._below = Target.SHORT if self.p.allow_short else Target.FLAT
        self._trend = self.p.entry == "trend"  # read once: on_bar runs on every bar

    def on_bar(self, snap: Snapshot, portfolio: PortfolioView) -> Signal | None:
        """Update both averages with the close; signal on a change of side."""
        sym = snap.symbol
        fast = self._fast[sym].update(snap.price)
        slow = self._slow[sym].update(snap.price)
        if slow != slow:  # NaN while the slow window fills
            return None
        above = fast > slow
        if self._trend:
            target = Target.LONG if above else self._below
            reason = "fast SMA above slow" if above else "fast SMA below slow"
            return self._targets.change(sym, target, reason, at=snap.time)
        before = self._above[sym]
        self._above[sym] = above
        if before is None or above == before:
            return None
        if above:
            return Signal.long("fast SMA crossed above slow")
        if self.p.allow_short:
            return Signal.short("fast SMA crossed below slow")
        return Signal.flat("fast SMA crossed below slow")
