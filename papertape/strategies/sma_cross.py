"""SMA crossover: long when the fast average crosses above the slow one, flat (or short) below."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from papertape.engine.errors import ConfigError
from papertape.engine.execution.orders import Signal
from papertape.engine.indicators import SMA
from papertape.engine.strategy import Strategy, StrategyContext

if TYPE_CHECKING:
    from papertape.engine.portfolio import PortfolioView
    from papertape.engine.snapshot import Snapshot

__all__ = ["SmaCross"]


class SmaCross(Strategy):
    """Classic moving-average crossover on closes.

    Parameters: ``fast`` and ``slow`` window lengths (bars); ``allow_short`` turns the flat
    side into a short. Signals only on a cross, so a position is held between crosses.
    """

    name: ClassVar[str] = "sma_cross"
    defaults: ClassVar[dict[str, Any]] = {"fast": 10, "slow": 30, "allow_short": False}

    def validate(self) -> None:
        """``0 < fast < slow``."""
        if self.p.fast < 1:
            raise ConfigError("params.fast", self.p.fast, "must be >= 1")
        if self.p.slow <= self.p.fast:
            raise ConfigError("params.slow", self.p.slow, f"must be > fast ({self.p.fast})")

    def on_start(self, ctx: StrategyContext) -> None:
        """One pair of averages and a last-side memory per symbol."""
        self._fast = {s: SMA(self.p.fast) for s in ctx.symbols}
        self._slow = {s: SMA(self.p.slow) for s in ctx.symbols}
        self._above: dict[str, bool | None] = dict.fromkeys(ctx.symbols)

    def on_bar(self, snap: Snapshot, portfolio: PortfolioView) -> Signal | None:
        """Update both averages with the close; signal on a change of side."""
        sym = snap.symbol
        fast = self._fast[sym].update(snap.price)
        slow = self._slow[sym].update(snap.price)
        if slow != slow:  # NaN while the slow window fills
            return None
        above = fast > slow
        before = self._above[sym]
        self._above[sym] = above
        if before is None or above == before:
            return None
        if above:
            return Signal.long("fast SMA crossed above slow")
        if self.p.allow_short:
            return Signal.short("fast SMA crossed below slow")
        return Signal.flat("fast SMA crossed below slow")
