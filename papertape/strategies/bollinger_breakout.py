"""Bollinger breakout: go with a close outside the bands, leave when price returns to the middle."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from papertape.engine.errors import ConfigError
from papertape.engine.execution.orders import Signal, Target
from papertape.engine.indicators import BollingerBands
from papertape.engine.strategy import Strategy, StrategyContext, TargetMemory

if TYPE_CHECKING:
    from papertape.engine.portfolio import PortfolioView
    from papertape.engine.snapshot import Snapshot

__all__ = ["BollingerBreakout"]


class BollingerBreakout(Strategy):
    """Long on a close above the upper band; flat below the middle band; short mirrors it."""

    name: ClassVar[str] = "bollinger_breakout"
    defaults: ClassVar[dict[str, Any]] = {"period": 20, "k": 2.0, "allow_short": False}

    def validate(self) -> None:
        """``k > 0``."""
        if self.p.k <= 0.0:
            raise ConfigError("params.k", self.p.k, "must be > 0")

    def on_start(self, ctx: StrategyContext) -> None:
        """One band set per symbol."""
        self._bands = {s: BollingerBands(self.p.period, self.p.k) for s in ctx.symbols}
        self._targets = TargetMemory(ctx)
        self._holding: dict[str, Target] = {}

    def on_bar(self, snap: Snapshot, portfolio: PortfolioView) -> Signal | None:
        """Breakout entries, mean exits."""
        sym = snap.symbol
        bands = self._bands[sym]
        mid = bands.update(snap.price)
        if mid != mid:
            return None
        px = snap.price
        held = self._holding.get(sym, Target.FLAT)
        target = held
        if px > bands.upper:
            target = Target.LONG
        elif px < bands.lower and self.p.allow_short:
            target = Target.SHORT
        elif (held is Target.LONG and px < mid) or (held is Target.SHORT and px > mid):
            target = Target.FLAT
        self._holding[sym] = target
        return self._targets.change(
            sym,
            target,
            f"close {px:.6g} vs bands {bands.lower:.6g}..{bands.upper:.6g}",
            at=snap.time,
        )
