"""Probability of backtest overfitting by combinatorially symmetric cross-validation (CSCV).

Bailey, Borwein, López de Prado and Zhu (2015), "The Probability of Backtest Overfitting",
Journal of Computational Finance 20(4).

The (periods × configurations) performance matrix is cut into ``S`` contiguous slices of time.
For every way of choosing ``S/2`` slices as the in-sample set (the rest is out-of-sample), the
configuration with the best in-sample Sharpe ratio is picked and its out-of-sample Sharpe ratio
is ranked among all configurations: relative rank ``ω = rank / (N + 1)``, logit
``λ = log(ω / (1 - ω))``. **PBO** is the share of splits where the in-sample winner lands at or
below the out-of-sample median (``λ <= 0``): the probability that choosing the best backtest
picks something no better than a typical configuration. The **degradation slope** is the slope
of the least-squares line of the winner's out-of-sample Sharpe ratio on its in-sample one: a
negative slope says that the better a configuration looked in sample, the worse it did out of
it.

Per-slice sums and sums of squares are computed once, so every split costs a matrix product:
``n_splits = 16`` (12,870 splits) takes milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from papertape.analysis.series import return_matrix
from papertape.engine.errors import ConfigError, DataError

__all__ = ["PboResult", "probability_of_backtest_overfitting"]


@dataclass(frozen=True, slots=True)
class PboResult:
    """The outcome of CSCV.

    Attributes:
        pbo: Probability of backtest overfitting, the share of splits with ``λ <= 0``.
        logits: ``λ`` of every split (read-only array).
        in_sample: In-sample performance of the winner of every split (read-only).
        out_of_sample: Out-of-sample performance of that winner (read-only).
        degradation_slope: Slope of ``out_of_sample`` regressed on ``in_sample``.
        degradation_intercept: Intercept of that regression.
        probability_of_loss: Share of splits whose winner has out-of-sample performance < 0.
        n_splits: Number of time slices ``S``.
        n_combinations: Number of in-sample/out-of-sample splits evaluated, ``C(S, S/2)``.
    """

    pbo: float
    logits: NDArray[np.float64]
    in_sample: NDArray[np.float64]
    out_of_sample: NDArray[np.float64]
    degradation_slope: float
    degradation_intercept: float
    probability_of_loss: float
    n_splits: int
    n_combinations: int


def probability_of_backtest_overfitting(
    perf_matrix: ArrayLike,
    n_splits: int = 16,
    *,
    metric: Literal["sharpe", "mean"] = "sharpe",
) -> PboResult:
    """PBO of selecting the best of N configurations, by CSCV.

    Args:
        perf_matrix: (T periods × N configurations) per-period returns (or any per-period
            performance whose mean/Sharpe ratio ranks configurations), N >= 2.
        n_splits: Number ``S`` of contiguous time slices; even, >= 2, and at most T. Slices
            differ in length by at most one period when T is not a multiple of S.
        metric: How a configuration is ranked within a set of slices: its Sharpe ratio
            (default, as in the paper) or its mean.

    Returns:
        PBO, the logits, and the performance degradation.

    Raises:
        ConfigError: If ``n_splits`` is odd, below 2 or above T, or ``metric`` is unknown.
        DataError: If the matrix has fewer than two configurations or is unusable.
    """
    matrix = return_matrix(perf_matrix, "perf_matrix")
    periods, configs = matrix.shape
    if configs < 2:
        raise DataError("PBO compares configurations; at least two columns are needed")
    if isinstance(n_splits, bool) or n_splits < 2 or n_splits % 2 or n_splits > periods:
        raise ConfigError("n_splits", n_splits, f"an even number between 2 and {periods}")
    if metric not in ("sharpe", "mean"):
        raise ConfigError("metric", metric, "choose sharpe or mean")

    slices = np.array_split(np.arange(periods), n_splits)
    counts = np.array([len(s) for s in slices], dtype=np.float64)
    sums = np.stack([matrix[s].sum(axis=0) for s in slices])
    squares = np.stack([(matrix[s] ** 2).sum(axis=0) for s in slices])

    chosen = np.zeros((_n_choose(n_splits), n_splits))
    for row, picked in enumerate(combinations(range(n_splits), n_splits // 2)):
        chosen[row, list(picked)] = 1.0
    in_perf = _performance(chosen, counts, sums, squares, metric)
    out_perf = _performance(1.0 - chosen, counts, sums, squares, metric)

    rows = np.arange(chosen.shape[0])
    winner = np.argmax(in_perf, axis=1)
    winner_out = out_perf[rows, winner]
    below = np.count_nonzero(out_perf < winner_out[:, None], axis=1)
    ties = np.count_nonzero(out_perf == winner_out[:, None], axis=1) - 1
    rank = below + 0.5 * ties + 1.0
    omega = rank / (configs + 1.0)
    logits = np.log(omega / (1.0 - omega))
    winner_in = in_perf[rows, winner]
    slope, intercept = _least_squares(winner_in, winner_out)
    return PboResult(
        pbo=float(np.mean(logits <= 0.0)),
        logits=_frozen(logits),
        in_sample=_frozen(winner_in),
        out_of_sample=_frozen(winner_out),
        degradation_slope=slope,
        degradation_intercept=intercept,
        probability_of_loss=float(np.mean(winner_out < 0.0)),
        n_splits=n_splits,
        n_combinations=int(chosen.shape[0]),
    )


def _n_choose(n_splits: int) -> int:
    from math import comb

    return comb(n_splits, n_splits // 2)


def _performance(
    chosen: NDArray[np.float64],
    counts: NDArray[np.float64],
    sums: NDArray[np.float64],
    squares: NDArray[np.float64],
    metric: str,
) -> NDArray[np.float64]:
    """Mean or Sharpe ratio (``n - 1`` variance) of every configuration on every slice set."""
    n = (chosen @ counts)[:, None]
    total = chosen @ sums
    mean = total / n
    if metric == "mean":
        return np.asarray(mean, dtype=np.float64)
    variance = np.maximum(chosen @ squares - total * mean, 0.0) / np.maximum(n - 1.0, 1.0)
    std = np.sqrt(variance)
    with np.errstate(divide="ignore", invalid="ignore"):
        sharpe = np.where(std > 0, mean / std, 0.0)
    return np.asarray(sharpe, dtype=np.float64)


def _least_squares(x: NDArray[np.float64], y: NDArray[np.float64]) -> tuple[float, float]:
    spread = x - x.mean()
    denominator = float(spread @ spread)
    if denominator == 0.0:
        return 0.0, float(y.mean())
    slope = float(spread @ (y - y.mean())) / denominator
    return slope, float(y.mean() - slope * x.mean())


def _frozen(values: NDArray[np.float64]) -> NDArray[np.float64]:
    values = np.ascontiguousarray(values, dtype=np.float64)
    values.setflags(write=False)
    return values
