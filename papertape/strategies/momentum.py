"""Time-series momentum: hold long while the return over a lookback exceeds a threshold."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from papertape.engine.errors import ConfigError
from papertape.engine.execution.orders import Signal, Target
from papertape.engine.strategy import Strategy, StrategyContext, TargetMemory

if TYPE_CHECKING:
    from papertape.engine.portfolio import PortfolioView
    from papertape.engine.snapshot import Snapshot

__all__ = ["Momentum"]


class Momentum(Strategy):
    """Rate of change over ``lookback`` bars, read from the snapshot's close window.

    Long when it is above ``threshold``; flat (or short with ``allow_short``) when it is below
    ``-threshold``; in between the position is kept.
    """

    name: ClassVar[str] = "momentum"
    defaults: ClassVar[dict[str, Any]] = {"lookback": 60, "threshold": 0.0, "allow_short": False}

    def validate(self) -> None:
        """``lookback >= 1`` and ``threshold >= 0``."""
        if self.p.lookback < 1:
            raise ConfigError("params.lookback", self.p.lookback, "must be >= 1")
        if self.p.threshold < 0.0:
            raise ConfigError("params.threshold", self.p.threshold, "must be >= 0")

    def on_start(self, ctx: StrategyContext) -> None:
        """Reset the target memory."""
        self._targets = TargetMemory(ctx)

    def on_bar(self, snap: Snapshot, portfolio: PortfolioView) -> Signal | None:
        """Compare the close with the close ``lookback`` bars ago."""
        closes = snap.closes(self.p.lookback + 1)
        if len(closes) <= self.p.lookback:
            return None
        roc = float(closes[-1] / closes[0] - 1.0)
        if roc > self.p.threshold:
            target = Target.LONG
        elif roc < -self.p.threshold:
            target = Target.SHORT if self.p.allow_short else Target.FLAT
        else:
            return None
        reason = f"{self.p.lookback}-bar return {roc:+.2%}"
        return self._targets.change(snap.symbol, target, reason, at=snap.time)
