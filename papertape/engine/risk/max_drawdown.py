"""Max drawdown shield: reduce-only past one drawdown, halt past a deeper one."""

from __future__ import annotations

from typing import Any, ClassVar

from papertape.engine.errors import ConfigError
from papertape.engine.risk.base import Shield, ShieldState, Transition

__all__ = ["MaxDrawdownShield"]


class MaxDrawdownShield(Shield):
    """Drawdown from the equity high-water mark.

    ``reduce_only_at`` (fraction) switches to reduce-only; recovering to a drawdown below
    ``release_at`` releases it. ``halt_at`` halts the portfolio for the rest of the run.

    A strategy that is flat in reduce-only cannot recover its drawdown, so without more the
    shield would stay tripped for good. ``rearm_after`` (steps, 0 = never) releases it after
    that many steps in reduce-only and restarts the high-water mark at the equity of that step:
    the drawdown is measured afresh from there.
    """

    name: ClassVar[str] = "max_drawdown"
    defaults: ClassVar[dict[str, Any]] = {
        "reduce_only_at": 0.10,
        "halt_at": 0.20,
        "release_at": 0.05,
        "rearm_after": 0,
    }

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.high_water = float("-inf")
        self.tripped_at = -1  # the step the shield last went reduce-only

    def validate(self) -> None:
        """Thresholds must be ordered release < reduce-only <= halt, all in (0, 1)."""
        p = self.p
        for key in ("reduce_only_at", "halt_at"):
            if not 0.0 < getattr(p, key) < 1.0:
                raise ConfigError(f"max_drawdown.{key}", getattr(p, key), "must be in (0, 1)")
        if p.halt_at < p.reduce_only_at:
            raise ConfigError("max_drawdown.halt_at", p.halt_at, "must be >= reduce_only_at")
        if not 0.0 <= p.release_at < p.reduce_only_at:
            raise ConfigError(
                "max_drawdown.release_at", p.release_at, "must be in [0, reduce_only_at)"
            )
        if int(p.rearm_after) != p.rearm_after:
            raise ConfigError("max_drawdown.rearm_after", p.rearm_after, "must be whole steps")

    def on_step(self, equity: float, time: int, step: int) -> Transition | None:
        """Update the high-water mark and the state."""
        if equity > self.high_water:
            self.high_water = equity
        if self.state is ShieldState.HALTED or self.high_water <= 0.0:
            return None
        dd = 1.0 - equity / self.high_water
        if dd >= self.p.halt_at:
            return self._set(
                ShieldState.HALTED, f"drawdown {dd:.2%} >= halt_at {self.p.halt_at:.2%}"
            )
        if self.state is ShieldState.REDUCE_ONLY:
            if dd < self.p.release_at:
                return self._set(
                    ShieldState.NORMAL, f"drawdown {dd:.2%} < release_at {self.p.release_at:.2%}"
                )
            if self.p.rearm_after and step - self.tripped_at >= self.p.rearm_after:
                self.high_water = equity
                return self._set(
                    ShieldState.NORMAL,
                    f"re-armed after {self.p.rearm_after} steps in reduce-only "
                    f"(drawdown {dd:.2%}); high-water mark reset to {equity:.2f}",
                )
            return None
        if dd >= self.p.reduce_only_at:
            self.tripped_at = step
            return self._set(
                ShieldState.REDUCE_ONLY,
                f"drawdown {dd:.2%} >= reduce_only_at {self.p.reduce_only_at:.2%}",
            )
        return None
