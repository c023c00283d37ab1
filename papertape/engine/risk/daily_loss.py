"""Daily loss limit: losing a fraction of the day's opening equity pauses until the next UTC day."""

from __future__ import annotations

from typing import Any, ClassVar

from papertape.engine.errors import ConfigError
from papertape.engine.risk.base import Shield, ShieldState, Transition

__all__ = ["DailyLossShield"]

NS_PER_DAY = 86_400 * 1_000_000_000


class DailyLossShield(Shield):
    """Pause new exposure once equity is ``max_loss`` below the day's first equity."""

    name: ClassVar[str] = "daily_loss"
    defaults: ClassVar[dict[str, Any]] = {"max_loss": 0.03}

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.day = -1
        self.day_open = 0.0

    def validate(self) -> None:
        """The limit must be a fraction in (0, 1)."""
        if not 0.0 < self.p.max_loss < 1.0:
            raise ConfigError("daily_loss.max_loss", self.p.max_loss, "must be in (0, 1)")

    def on_step(self, equity: float, time: int, step: int) -> Transition | None:
        """Roll the day, release on a new day, trip past the limit."""
        day = time // NS_PER_DAY
        released = None
        if day != self.day:
            self.day = day
            self.day_open = equity
            if self.state is ShieldState.PAUSED:
                released = self._set(ShieldState.NORMAL, "new trading day")
        if self.state is ShieldState.NORMAL and self.day_open > 0.0:
            loss = 1.0 - equity / self.day_open
            if loss >= self.p.max_loss:
                return self._set(
                    ShieldState.PAUSED,
                    f"daily loss {loss:.2%} >= {self.p.max_loss:.2%}: paused until next UTC day",
                )
        return released
