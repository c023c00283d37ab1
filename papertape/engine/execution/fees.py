"""Trading fees: maker/taker rates in basis points of notional."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FeeSchedule"]


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """Maker and taker fees in basis points (1 bp = 0.01 %) of the fill's notional.

    Market and stop orders take liquidity (taker); resting limit orders add it (maker).
    """

    maker_bps: float = 0.0
    taker_bps: float = 0.0

    def fee(self, notional: float, taker: bool) -> float:
        """Fee for a fill of ``notional`` (absolute quote amount)."""
        return notional * (self.taker_bps if taker else self.maker_bps) * 1e-4
