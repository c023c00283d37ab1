"""Cooldown shield: after a stop-loss fill, no new exposure for N bars."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from papertape.engine.errors import ConfigError
from papertape.engine.execution.orders import OrderRole
from papertape.engine.risk.base import Shield, ShieldState, Transition

if TYPE_CHECKING:
    from papertape.engine.execution.orders import Fill

__all__ = ["CooldownShield"]


class CooldownShield(Shield):
    """Pause for ``bars`` steps after any stop-loss order of the portfolio fills."""

    name: ClassVar[str] = "cooldown"
    defaults: ClassVar[dict[str, Any]] = {"bars": 10}

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.until_step = -1

    def validate(self) -> None:
        """The bar count must be positive."""
        if self.p.bars < 1:
            raise ConfigError("cooldown.bars", self.p.bars, "must be >= 1")

    def on_fill(self, fill: Fill, step: int) -> Transition | None:
        """Start (or extend) the cooldown on a stop-out."""
        if fill.role is not OrderRole.STOP_LOSS:
            return None
        self.until_step = step + self.p.bars
        return self._set(
            ShieldState.PAUSED, f"stopped out in {fill.symbol}: cooling down {self.p.bars} bars"
        )

    def on_step(self, equity: float, time: int, step: int) -> Transition | None:
        """Release when the cooldown has run out."""
        if self.state is ShieldState.PAUSED and step >= self.until_step:
            return self._set(ShieldState.NORMAL, "cooldown over")
        return None
