"""Built-in position sizers: fixed quantity, fixed fraction, volatility target, fractional Kelly."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, ClassVar

from papertape.engine.errors import ConfigError
from papertape.engine.hookspecs import hookimpl
from papertape.engine.sizing import Sizer

if TYPE_CHECKING:
    from collections.abc import Sequence

    from papertape.engine.execution.orders import Signal
    from papertape.engine.portfolio import PortfolioView
    from papertape.engine.snapshot import Snapshot

__all__ = ["FixedFraction", "FixedQuantity", "FractionalKelly", "VolatilityTarget"]


class FixedQuantity(Sizer):
    """Always the same number of units."""

    name: ClassVar[str] = "fixed"
    defaults: ClassVar[dict[str, Any]] = {"qty": 1.0}

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        if self.p.qty <= 0:
            raise ConfigError("sizer.qty", self.p.qty, "must be > 0")

    def size(self, signal: Signal, snap: Snapshot, portfolio: PortfolioView, price: float) -> float:
        """``qty`` units."""
        return float(self.p.qty)


class FixedFraction(Sizer):
    """A fraction of current equity, converted to units at the decision price.

    A signal's own ``size`` (fraction of equity, e.g. from an LLM trader) replaces ``fraction``
    when ``honour_signal_size`` is true, capped at ``max_fraction``.
    """

    name: ClassVar[str] = "fraction"
    defaults: ClassVar[dict[str, Any]] = {
        "fraction": 0.95,
        "honour_signal_size": True,
        "max_fraction": 1.0,
    }

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        if not 0.0 < self.p.fraction <= self.p.max_fraction:
            raise ConfigError("sizer.fraction", self.p.fraction, "must be in (0, max_fraction]")

    def size(self, signal: Signal, snap: Snapshot, portfolio: PortfolioView, price: float) -> float:
        """``fraction × equity / price``."""
        frac = self.p.fraction
        if self.p.honour_signal_size and signal.size is not None:
            frac = min(max(signal.size, 0.0), self.p.max_fraction)
        equity = portfolio.equity
        return max(frac * equity, 0.0) / price if price > 0.0 else 0.0


class VolatilityTarget(Sizer):
    """Scale exposure so the position's annualised volatility matches ``target_vol``.

    ``exposure = equity × min(max_leverage, target_vol / realised_vol)`` where realised volatility
    is the standard deviation of the last ``window`` log returns annualised with
    ``periods_per_year`` (default derived from the snapshot's bar spacing, 365.25-day year).
    """

    name: ClassVar[str] = "vol_target"
    defaults: ClassVar[dict[str, Any]] = {
        "target_vol": 0.15,
        "window": 20,
        "max_leverage": 1.0,
        "periods_per_year": 0.0,
    }

    def size(self, signal: Signal, snap: Snapshot, portfolio: PortfolioView, price: float) -> float:
        """Target-volatility quantity (0 while fewer than 3 bars of history)."""
        closes = snap.closes(self.p.window + 1, signal.symbol)
        times = snap.window("time", self.p.window + 1, signal.symbol)
        n = len(closes) - 1
        if n < 2 or price <= 0.0:
            return 0.0
        rets = [math.log(closes[i + 1] / closes[i]) for i in range(n)]
        mean = sum(rets) / n
        sd = math.sqrt(sum((r - mean) ** 2 for r in rets) / (n - 1))
        ppy = self.p.periods_per_year
        if ppy <= 0.0:
            spacing = (float(times[-1]) - float(times[0])) / n
            ppy = 365.25 * 86400e9 / spacing if spacing > 0 else 252.0
        vol = sd * math.sqrt(ppy)
        lev = (
            self.p.max_leverage if vol == 0.0 else min(self.p.max_leverage, self.p.target_vol / vol)
        )
        return float(portfolio.equity * lev / price)


class FractionalKelly(Sizer):
    """Fractional Kelly from the strategy's own closed trades.

    ``f* = W − (1 − W) / R`` with win rate ``W`` and payoff ratio ``R`` (average win / average
    loss) over the last ``lookback`` trades; the position is ``kelly_fraction × f*`` of equity,
    clipped to ``[0, max_fraction]``. Until ``min_trades`` trades exist, ``default_fraction``.
    """

    name: ClassVar[str] = "kelly"
    defaults: ClassVar[dict[str, Any]] = {
        "kelly_fraction": 0.5,
        "lookback": 50,
        "min_trades": 10,
        "default_fraction": 0.1,
        "max_fraction": 1.0,
    }

    def fraction(self, portfolio: PortfolioView) -> float:
        """The equity fraction Kelly gives now."""
        trades = portfolio.recent_trades(self.p.lookback)
        if len(trades) < self.p.min_trades:
            return float(self.p.default_fraction)
        wins = [t.pnl for t in trades if t.pnl > 0]
        losses = [-t.pnl for t in trades if t.pnl < 0]
        if not losses:
            return float(self.p.max_fraction)
        if not wins:
            return 0.0
        w = len(wins) / len(trades)
        r = (sum(wins) / len(wins)) / (sum(losses) / len(losses))
        f = float(self.p.kelly_fraction) * (w - (1.0 - w) / r)
        return min(max(f, 0.0), float(self.p.max_fraction))

    def size(self, signal: Signal, snap: Snapshot, portfolio: PortfolioView, price: float) -> float:
        """Kelly fraction of equity in units."""
        if price <= 0.0:
            return 0.0
        return float(self.fraction(portfolio) * max(portfolio.equity, 0.0) / price)


BUILTIN_SIZERS: tuple[type[Sizer], ...] = (
    FixedQuantity,
    FixedFraction,
    VolatilityTarget,
    FractionalKelly,
)


@hookimpl
def papertape_sizers() -> Sequence[type[Sizer]]:
    """Register the built-in sizers."""
    return BUILTIN_SIZERS
