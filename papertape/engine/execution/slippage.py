"""Slippage models: how far an aggressive fill lands from the reference price.

Slippage only applies to orders that take liquidity (market and triggered stop orders); a
limit order fills at its price or better. A model returns a fraction of price (0.001 = 10 bps)
that moves the fill against the trader.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from papertape.engine.market import SymbolHistory

__all__ = ["FixedSlippage", "SlippageModel", "VolatilitySlippage"]


class SlippageModel(Protocol):
    """Fraction of price a taker fill pays, from history strictly before the fill bar."""

    def fraction(self, history: SymbolHistory, count: int) -> float:
        """Return the adverse price fraction using the first ``count`` bars of ``history``."""
        ...


@dataclass(frozen=True, slots=True)
class FixedSlippage:
    """A constant number of basis points."""

    bps: float = 0.0

    def fraction(self, history: SymbolHistory, count: int) -> float:
        """Constant ``bps`` as a fraction."""
        return self.bps * 1e-4


@dataclass(frozen=True, slots=True)
class VolatilitySlippage:
    """Slippage proportional to recent volatility: ``k`` × stdev of the last ``window`` log returns.

    Uses only bars before the fill bar, so the cost model cannot peek into the bar it fills on.
    ``floor_bps`` applies while history is too short and as a minimum.
    """

    k: float = 0.1
    window: int = 20
    floor_bps: float = 0.0

    def fraction(self, history: SymbolHistory, count: int) -> float:
        """``max(floor, k × σ)`` of log returns over the window."""
        floor = self.floor_bps * 1e-4
        if count < 3:
            return floor
        closes = history.column("close", count, self.window + 1)
        n = len(closes) - 1
        rets = [math.log(closes[i + 1] / closes[i]) for i in range(n)]
        mean = sum(rets) / n
        var = sum((r - mean) ** 2 for r in rets) / max(n - 1, 1)
        return max(floor, self.k * math.sqrt(var))
