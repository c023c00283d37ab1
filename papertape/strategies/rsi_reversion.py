"""RSI mean reversion: buy oversold, exit when RSI recovers; optionally short overbought."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from papertape.engine.errors import ConfigError
from papertape.engine.execution.orders import Signal, Target
from papertape.engine.indicators import RSI
from papertape.engine.strategy import Strategy, StrategyContext, TargetMemory

if TYPE_CHECKING:
    from papertape.engine.portfolio import PortfolioView
    from papertape.engine.snapshot import Snapshot

__all__ = ["RsiReversion"]


class RsiReversion(Strategy):
    """Wilder RSI: long below ``oversold`` until it rises above ``exit``; short mirrors it."""

    name: ClassVar[str] = "rsi_reversion"
    defaults: ClassVar[dict[str, Any]] = {
        "period": 14,
        "oversold": 30.0,
        "overbought": 70.0,
        "exit": 50.0,
        "allow_short": False,
    }

    def validate(self) -> None:
        """``0 < oversold < exit < overbought < 100``."""
        p = self.p
        if not 0.0 < p.oversold < p.exit < p.overbought < 100.0:
            raise ConfigError("params.exit", p.exit, "need 0 < oversold < exit < overbought < 100")

    def on_start(self, ctx: StrategyContext) -> None:
        """One RSI per symbol."""
        self._rsi = {s: RSI(self.p.period) for s in ctx.symbols}
        self._targets = TargetMemory(ctx)
        self._holding: dict[str, Target] = {}

    def on_bar(self, snap: Snapshot, portfolio: PortfolioView) -> Signal | None:
        """Enter on extremes, leave at the exit level."""
        sym = snap.symbol
        rsi = self._rsi[sym].update(snap.price)
        if rsi != rsi:
            return None
        p = self.p
        held = self._holding.get(sym, Target.FLAT)
        target = held
        if rsi < p.oversold:
            target = Target.LONG
        elif rsi > p.overbought and p.allow_short:
            target = Target.SHORT
        elif (held is Target.LONG and rsi > p.exit) or (held is Target.SHORT and rsi < p.exit):
            target = Target.FLAT
        self._holding[sym] = target
        return self._targets.change(sym, target, f"RSI {rsi:.1f}", at=snap.time)
