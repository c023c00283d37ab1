"""Loss-streak shield: N consecutive losing trades pause new exposure for M bars."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from papertape.engine.errors import ConfigError
from papertape.engine.risk.base import Shield, ShieldState, Transition

if TYPE_CHECKING:
    from papertape.engine.metrics import ClosedTrade

__all__ = ["LossStreakShield"]


class LossStreakShield(Shield):
    """Pause after ``max_losses`` losing trades in a row, for ``pause_bars`` steps."""

    name: ClassVar[str] = "loss_streak"
    defaults: ClassVar[dict[str, Any]] = {"max_losses": 3, "pause_bars": 20}

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.streak = 0
        self.until_step = -1

    def validate(self) -> None:
        """Both counts must be positive."""
        for key in ("max_losses", "pause_bars"):
            if getattr(self.p, key) < 1:
                raise ConfigError(f"loss_streak.{key}", getattr(self.p, key), "must be >= 1")

    def on_trade(self, trade: ClosedTrade, step: int) -> Transition | None:
        """Count consecutive losses (a break-even or winning trade resets the count)."""
        if trade.pnl < 0.0:
            self.streak += 1
        else:
            self.streak = 0
        if self.streak >= self.p.max_losses:
            self.streak = 0
            self.until_step = step + self.p.pause_bars
            return self._set(
                ShieldState.PAUSED,
                f"{self.p.max_losses} losing trades in a row: paused for {self.p.pause_bars} bars",
            )
        return None

    def on_step(self, equity: float, time: int, step: int) -> Transition | None:
        """Release when the pause has run out."""
        if self.state is ShieldState.PAUSED and step >= self.until_step:
            return self._set(ShieldState.NORMAL, "loss-streak pause over")
        return None
