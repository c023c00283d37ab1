"""Exposure cap: gross exposure may not exceed a multiple of equity; orders are shrunk to fit."""

from __future__ import annotations

from typing import Any, ClassVar

from papertape.engine.errors import ConfigError
from papertape.engine.risk.base import OrderIntent, Shield

__all__ = ["ExposureCapShield"]


class ExposureCapShield(Shield):
    """Keep Σ |position value| <= ``max_gross`` × equity after every order.

    An order that would exceed the cap is shrunk to the largest quantity that fits (possibly 0);
    reducing orders always pass.
    """

    name: ClassVar[str] = "exposure_cap"
    defaults: ClassVar[dict[str, Any]] = {"max_gross": 1.0}

    def validate(self) -> None:
        """The cap must be positive."""
        if self.p.max_gross <= 0.0:
            raise ConfigError("exposure_cap.max_gross", self.p.max_gross, "must be > 0")

    def allow(self, intent: OrderIntent) -> tuple[float, str]:
        """Shrink the adding part of the order to the remaining room under the cap."""
        delta, why = super().allow(intent)
        reducing = intent.reducing_part
        adding = delta - reducing
        if adding == 0.0 or intent.price <= 0.0:
            return delta, why
        after_reduce = intent.gross_exposure - abs(reducing) * intent.price
        room = self.p.max_gross * max(intent.equity, 0.0) - after_reduce
        max_add = max(room, 0.0) / intent.price
        if abs(adding) <= max_add * (1.0 + 1e-12):
            return delta, why
        allowed = reducing + (max_add if adding > 0 else -max_add)
        return allowed, f"gross exposure capped at {self.p.max_gross:g}x equity"
