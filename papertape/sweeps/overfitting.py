"""Overfitting of a sweep's winner, measured by default.

* the Deflated Sharpe Ratio of the best cell, for the number of cells tried (Bailey and
  López de Prado 2014): the probability that its Sharpe ratio beats what the best of that many
  zero-skill tries would show;
* the probability of backtest overfitting by CSCV over the grid (Bailey et al. 2015): how often
  the in-sample winner lands at or below the median out of sample.

Both come from :mod:`papertape.analysis.significance`; this module only shapes the inputs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from papertape.analysis.significance import (
    deflated_sharpe_ratio,
    expected_max_sharpe,
    probability_of_backtest_overfitting,
)
from papertape.sweeps.store import CellResult

__all__ = ["OverfittingReport", "measure_overfitting", "per_period_sharpe"]


@dataclass(frozen=True, slots=True)
class OverfittingReport:
    """The selection-bias figures of one sweep.

    Attributes:
        best_task: Task id of the cell with the highest per-bar Sharpe ratio.
        best_sharpe: Its per-bar Sharpe ratio.
        n_trials: Cells tried.
        expected_max_sharpe: Best per-bar Sharpe expected from ``n_trials`` zero-skill tries.
        deflated_sharpe: DSR of the best cell (None when it cannot be computed).
        pbo: Probability of backtest overfitting (None with fewer than two cells).
        pbo_splits: Time slices used by CSCV.
        degradation_slope: Slope of out-of-sample on in-sample Sharpe of CSCV winners.
    """

    best_task: str
    best_sharpe: float
    n_trials: int
    expected_max_sharpe: float
    deflated_sharpe: float | None
    pbo: float | None
    pbo_splits: int
    degradation_slope: float | None

    def as_dict(self) -> dict[str, object]:
        """JSON-ready fields."""
        return {name: getattr(self, name) for name in self.__slots__}


def per_period_sharpe(returns: NDArray[np.float64]) -> float:
    """Mean over standard deviation (``n - 1``) of per-bar returns; 0 when flat."""
    if len(returns) < 2:
        return 0.0
    std = float(np.std(returns, ddof=1))
    return float(np.mean(returns)) / std if std > 0 else 0.0


def _matrix(results: Sequence[CellResult]) -> NDArray[np.float64]:
    """(bars × cells) returns, aligned on the last bars when lengths differ."""
    length = min(len(r.returns) for r in results)
    return np.column_stack([r.returns[len(r.returns) - length :] for r in results])


def measure_overfitting(results: Sequence[CellResult], pbo_splits: int = 16) -> OverfittingReport:
    """DSR of the best cell and PBO of the grid, from the cells' per-bar returns."""
    sharpes = [per_period_sharpe(r.returns) for r in results]
    best = int(np.argmax(sharpes))
    n = len(results)
    spread = float(np.std(sharpes, ddof=1)) if n > 1 else 0.0
    returns = results[best].returns
    dsr = None
    if len(returns) > 2 and float(np.std(returns)) > 0:
        centred = returns - returns.mean()
        sd = float(np.std(returns))
        skew = float(np.mean(centred**3)) / sd**3
        kurt = float(np.mean(centred**4)) / sd**4
        if math.isfinite(skew) and math.isfinite(kurt):
            dsr = deflated_sharpe_ratio(
                sharpes[best],
                n_trials=n,
                n_obs=len(returns),
                skew=skew,
                kurtosis=kurt,
                sharpe_std_across_trials=spread,
            )
    pbo = slope = None
    splits = 0
    if n >= 2:
        matrix = _matrix(results)
        splits = min(pbo_splits, len(matrix) - len(matrix) % 2)
        if splits >= 2:
            outcome = probability_of_backtest_overfitting(matrix, splits)
            pbo, slope = outcome.pbo, outcome.degradation_slope
    return OverfittingReport(
        results[best].task_id,
        sharpes[best],
        n,
        expected_max_sharpe(n, spread),
        dsr,
        pbo,
        splits,
        slope,
    )
