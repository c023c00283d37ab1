"""Is a trader's edge over the baselines more than noise? One function answers for the arena.

:func:`compare_to_baselines` takes the paired per-bar returns of every trader (all traders of
an arena share the same bars, so returns are paired by construction) and, for each contestant:

1. picks the **best baseline** (highest Sharpe ratio among the baselines);
2. tests the Sharpe-ratio difference and the total-return difference against it with the
   Ledoit–Wolf studentized circular block bootstrap of :mod:`papertape.analysis.significance`
   (interval and two-sided p-value);
3. controls the family-wise error over all contestants: ``beats <baseline>`` only where the
   Romano–Wolf StepM (one joint bootstrap of all traders and the baseline, one-sided, adjusted
   p-value ``<= alpha``) says so; ``worse than <baseline>`` where the two-sided tests,
   Holm-adjusted, reject with a negative difference; every other row says
   ``not distinguishable from <baseline>``;
4. gives the Deflated Sharpe Ratio of the contestant with the highest Sharpe ratio, deflated
   for the number of contestants tried.

The statistics themselves live in :mod:`papertape.analysis.significance`; this module only
decides what is compared with what.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from papertape.analysis.significance import PairedTest

METHOD = "Ledoit-Wolf studentized circular block bootstrap; Romano-Wolf StepM"

__all__ = ["Comparison", "SignificanceReport", "compare_to_baselines", "per_bar_sharpe"]


def per_bar_sharpe(returns: NDArray[np.float64]) -> float:
    """Mean over standard deviation of per-bar returns (0 for a constant series)."""
    if len(returns) < 2:
        return 0.0
    sd = float(np.std(returns, ddof=1))
    return float(np.mean(returns)) / sd if sd > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Comparison:
    """One contestant against the best baseline."""

    trader: str
    baseline: str
    sharpe: PairedTest
    total_return: PairedTest
    p_adjusted: float  # Romano-Wolf, one-sided "beats"
    p_holm: float  # Holm on the two-sided Sharpe tests
    verdict: str


@dataclass(frozen=True, slots=True)
class SignificanceReport:
    """Comparisons of every contestant, and the winner's Deflated Sharpe Ratio."""

    best_baseline: str
    alpha: float
    method: str
    comparisons: dict[str, Comparison]
    winner: str | None
    deflated_sharpe: float | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (NaN becomes None)."""

        def num(x: float) -> float | None:
            return float(x) if isinstance(x, int | float) and math.isfinite(x) else None

        def test(t: PairedTest) -> dict[str, Any]:
            return {
                "statistic": num(t.statistic),
                "ci_low": num(t.ci_low),
                "ci_high": num(t.ci_high),
                "p_value": num(t.p_value),
                "block_length": num(t.block_length),
                "reps": t.reps,
                "method": t.method,
            }

        return {
            "best_baseline": self.best_baseline,
            "alpha": self.alpha,
            "method": self.method,
            "winner": self.winner,
            "deflated_sharpe": num(self.deflated_sharpe)
            if self.deflated_sharpe is not None
            else None,
            "comparisons": {
                k: {
                    "baseline": c.baseline,
                    "sharpe_difference": test(c.sharpe),
                    "total_return_difference": test(c.total_return),
                    "p_adjusted": num(c.p_adjusted),
                    "p_holm": num(c.p_holm),
                    "verdict": c.verdict,
                }
                for k, c in self.comparisons.items()
            },
        }


def _moments(r: NDArray[np.float64]) -> tuple[float, float]:
    """Skewness and (Pearson, normal = 3) kurtosis of per-bar returns."""
    d = r - r.mean()
    m2 = float(np.mean(d**2))
    if m2 <= 0:
        return 0.0, 3.0
    return float(np.mean(d**3)) / m2**1.5, float(np.mean(d**4)) / m2**2


def compare_to_baselines(
    returns: Mapping[str, NDArray[np.float64]],
    contestants: Sequence[str],
    baselines: Sequence[str],
    *,
    periods_per_year: float,
    alpha: float = 0.05,
    reps: int = 2000,
    seed: int = 0,
) -> SignificanceReport | None:
    """Test every contestant against the best baseline (see the module docstring).

    Args:
        returns: Per-bar returns of every trader, all of the same length (paired bars).
        contestants: The traders under test.
        baselines: The baselines' ids (at least one).
        periods_per_year: Bars per year, to annualise Sharpe ratios.
        alpha: Family-wise error rate of the "beats" verdicts.
        reps: Bootstrap replications.
        seed: Bootstrap seed (the same seed gives the same intervals).

    Returns:
        The report, or None when there is no baseline or no contestant.
    """
    from papertape.analysis.significance import (
        deflated_sharpe_ratio,
        holm,
        romano_wolf,
        sharpe_difference,
        total_return_difference,
    )
    from papertape.engine.errors import DataError

    if not baselines or not contestants:
        return None
    best = max(baselines, key=lambda b: (per_bar_sharpe(returns[b]), -baselines.index(b)))
    base = returns[best]
    tests: dict[str, tuple[PairedTest, PairedTest]] = {}
    for i, name in enumerate(contestants):
        kw: dict[str, Any] = {"periods_per_year": periods_per_year, "reps": reps, "seed": seed + i}
        tests[name] = (
            sharpe_difference(returns[name], base, **kw),
            total_return_difference(returns[name], base, **kw),
        )
    raw = [t[0].p_value if math.isfinite(t[0].p_value) else 1.0 for t in tests.values()]
    p_holm = holm(raw)
    family = romano_wolf(
        np.column_stack([returns[n] for n in contestants]),
        base,
        periods_per_year=periods_per_year,
        reps=reps,
        seed=seed,
        alpha=alpha,
    )
    comparisons = {}
    for i, (name, (sr, tr)) in enumerate(tests.items()):
        if family.beats[i]:
            verdict = f"beats {best}"
        elif p_holm[i] <= alpha and sr.statistic < 0:
            verdict = f"worse than {best}"
        else:
            verdict = f"not distinguishable from {best}"
        comparisons[name] = Comparison(
            name, best, sr, tr, float(family.p_values[i]), float(p_holm[i]), verdict
        )
    sharpes = {n: per_bar_sharpe(returns[n]) for n in contestants}
    winner = max(contestants, key=lambda n: (sharpes[n], -contestants.index(n)))
    dsr = None
    r = np.asarray(returns[winner], dtype=np.float64)
    if len(r) > 2 and len(contestants) > 1:
        skew, kurt = _moments(r)
        try:
            dsr = float(
                deflated_sharpe_ratio(
                    sharpes[winner],
                    n_trials=len(contestants),
                    n_obs=len(r),
                    skew=skew,
                    kurtosis=kurt,
                    sharpe_std_across_trials=float(np.std(list(sharpes.values()), ddof=1)),
                )
            )
        except DataError:  # moments that leave the Sharpe ratio no variance: no deflation
            dsr = None
    return SignificanceReport(
        best,
        alpha,
        METHOD,
        comparisons,
        winner,
        dsr,
    )
