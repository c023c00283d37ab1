"""Walk-forward, out-of-sample comparison of the RL sizer with fixed sizing rules.

For each test year, a policy is trained (per seed) on every bar before that year and judged on
the year; the strategy is warmed up on the bars before the test window, so its indicators are
ready and nothing trades before it. Every contender (RL per seed, fixed fraction, volatility
target, fractional Kelly) runs the same strategy on the same bars with the same costs. The
out-of-sample daily returns of all test years are chained; the summary gives Sharpe, maximum
drawdown, CAGR and turnover, and a paired Sharpe test of each RL seed against the best fixed
rule (``papertape.analysis.significance.sharpe_difference``).
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from papertape.engine.errors import DataError
from papertape.ml.rl.observation import RewardSpec
from papertape.ml.rl.setup import SLOT, SizingSetup, date_ns, window
from papertape.ml.rl.training import PPOSettings, train_sizer
from papertape.plugins.rl_sizer import RLSizer
from papertape.plugins.sizers import FixedFraction, FractionalKelly, VolatilityTarget

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from papertape.engine.feeds.base import BarSeries
    from papertape.engine.sizing import Sizer

__all__ = [
    "FIXED_RULES",
    "ContenderResult",
    "SizerComparison",
    "compare_sizers",
    "summarise_returns",
]

FIXED_RULES: dict[str, Callable[[], Sizer]] = {
    "fixed_fraction": lambda: FixedFraction(fraction=0.95, honour_signal_size=False),
    "vol_target": lambda: VolatilityTarget(target_vol=0.15, window=20, max_leverage=1.0),
    "kelly_half": lambda: FractionalKelly(kelly_fraction=0.5, default_fraction=0.5),
}
Progress = Callable[[str, int, int], None]
PERIODS_PER_YEAR = 252.0


@dataclass(frozen=True, slots=True)
class ContenderResult:
    """One sizing rule's chained out-of-sample result."""

    name: str
    sharpe: float
    max_drawdown: float
    cagr: float
    turnover: float  # traded notional / average equity, per year
    returns: NDArray[np.float64]
    sharpe_vs_best_fixed: float | None = None
    p_value: float | None = None


@dataclass(frozen=True, slots=True)
class SizerComparison:
    """The table: every contender, which fixed rule was best, the test years."""

    contenders: list[ContenderResult]
    best_fixed: str
    test_years: list[int]

    def rows(self) -> list[dict[str, Any]]:
        """JSON-ready rows (no return series)."""
        return [
            {
                "sizer": c.name,
                "sharpe": round(c.sharpe, 3),
                "max_drawdown": round(c.max_drawdown, 4),
                "cagr": round(c.cagr, 4),
                "turnover": round(c.turnover, 2),
                "sharpe_minus_best_fixed": None
                if c.sharpe_vs_best_fixed is None
                else round(c.sharpe_vs_best_fixed, 3),
                "p_value": None if c.p_value is None else round(c.p_value, 4),
            }
            for c in self.contenders
        ]


def _oos_run(setup: SizingSetup, sizer: Sizer) -> tuple[NDArray[np.float64], float]:
    """Daily returns of the test window and traded notional over it."""
    engine = setup.build(sizer)
    engine.run_sync()
    slot = next(s for s in engine.slots if s.id == SLOT)
    curve = np.asarray(slot.portfolio.curve, dtype=np.float64)
    equity = np.concatenate([[slot.portfolio.initial_cash], curve])
    returns = equity[1:] / equity[:-1] - 1.0
    notional = sum(abs(t.qty) * (t.entry_price + t.exit_price) for t in slot.portfolio.trades)
    return returns, float(notional) / float(np.mean(equity))


def summarise_returns(name: str, returns: NDArray[np.float64], turnover: float) -> ContenderResult:
    """Sharpe, max drawdown, CAGR (252 bars a year) of chained returns; turnover per year."""
    eq = np.cumprod(1.0 + returns)
    sd = float(np.std(returns, ddof=1)) if len(returns) > 1 else 0.0
    sharpe = float(np.mean(returns)) / sd * math.sqrt(PERIODS_PER_YEAR) if sd > 0 else 0.0
    peak = np.maximum.accumulate(np.concatenate([[1.0], eq]))
    mdd = float(np.max(1.0 - np.concatenate([[1.0], eq]) / peak))
    years = len(returns) / PERIODS_PER_YEAR
    cagr = float(eq[-1]) ** (1.0 / years) - 1.0 if years > 0 and eq[-1] > 0 else -1.0
    return ContenderResult(name, sharpe, mdd, cagr, turnover / years if years else 0.0, returns)


def compare_sizers(
    series: BarSeries,
    base: SizingSetup,
    test_years: list[int],
    seeds: list[int],
    ppo: PPOSettings,
    reward: RewardSpec | None = None,
    warmup_days: int = 120,
    models_dir: str | Path | None = None,
    progress: Progress | None = None,
) -> SizerComparison:
    """Walk forward over ``test_years``: train RL per seed before each year, test on the year.

    Args:
        series: The whole data.
        base: Strategy, parameters and costs (its series is replaced per window).
        test_years: Calendar years tested out of sample (each trained on all earlier bars).
        seeds: PPO seeds (one RL contender per seed).
        ppo: PPO settings.
        reward: The training reward (default :class:`RewardSpec`).
        warmup_days: Calendar days before a test year that only warm the strategy up.
        models_dir: Where policies are saved (a temporary folder when None).
        progress: Called with (stage, done, total).

    Raises:
        DataError: A test year has no bars, or no year is given.
    """
    from papertape.analysis.significance import sharpe_difference

    if not test_years or not seeds:
        raise DataError("give at least one test year and one seed")
    names = [*FIXED_RULES, *(f"rl_seed{s}" for s in seeds)]
    parts: dict[str, list[NDArray[np.float64]]] = {n: [] for n in names}
    traded: dict[str, float] = dict.fromkeys(names, 0.0)
    root = Path(models_dir) if models_dir else Path(tempfile.mkdtemp(prefix="papertape-rl-"))
    total = len(test_years) * (len(seeds) + 1)
    done = 0
    for year in test_years:
        start, end = date_ns(f"{year}-01-01"), date_ns(f"{year + 1}-01-01")
        if not np.any((series.time >= start) & (series.time < end)):
            raise DataError(f"no bars in the test year {year}")
        train = replace(base, series=window(series, None, start), trade_from=None)
        test = replace(
            base,
            series=window(series, start - warmup_days * 86_400 * 10**9, end),
            trade_from=start,
        )
        for name, make in FIXED_RULES.items():
            r, notional = _oos_run(test, make())
            parts[name].append(r)
            traded[name] += notional
        done += 1
        if progress:
            progress("walk-forward", done, total)
        for seed in seeds:
            saved = train_sizer(
                train, root / f"rl-{year}-seed{seed}", seed=seed, ppo=ppo, reward=reward
            )
            sizer = RLSizer(model=str(saved.path), max_fraction=ppo.max_fraction)
            r, notional = _oos_run(test, sizer)
            parts[f"rl_seed{seed}"].append(r)
            traded[f"rl_seed{seed}"] += notional
            done += 1
            if progress:
                progress("walk-forward", done, total)
    results = {n: summarise_returns(n, np.concatenate(parts[n]), traded[n]) for n in names}
    best = max(FIXED_RULES, key=lambda n: results[n].sharpe)
    out = []
    for n in names:
        c = results[n]
        if n.startswith("rl_"):
            test_result = sharpe_difference(
                c.returns, results[best].returns, periods_per_year=PERIODS_PER_YEAR, seed=0
            )
            c = replace(c, sharpe_vs_best_fixed=test_result.statistic, p_value=test_result.p_value)
        out.append(c)
    return SizerComparison(out, best, list(test_years))
