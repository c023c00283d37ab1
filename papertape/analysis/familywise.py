"""Many traders against one baseline: which of them beat it after family-wise error control.

Comparing K traders with a baseline at 5 % each declares at least one "winner" far more often
than 5 % of the time when none is better. Two corrections are offered:

* :func:`romano_wolf` — the StepM procedure of Romano and Wolf (2005), "Stepwise multiple
  testing as formalized data snooping", Econometrica 73(4), with the adjusted p-values of
  Romano and Wolf (2016). All traders are resampled *together* with the baseline (one circular
  block bootstrap of the rows), so the procedure sees how strongly their tests are correlated —
  on one tape they are, heavily — and the step-down removes the traders already shown to be
  better before the next critical value is computed. It uses the same studentized Ledoit–Wolf
  statistic as :func:`~papertape.analysis.paired.sharpe_difference`, one-sided
  (``H0_k: Sharpe_k <= Sharpe_baseline``).
* :func:`holm` — Holm (1979) step-down on given p-values: valid under any dependence, but it
  ignores the dependence, so it is conservative when the tests are correlated.

**Default for "beats the baseline": Romano–Wolf** (:func:`beats_baseline`). Both control the
family-wise error rate; Romano–Wolf is the one that spends the error budget where the data
say the tests overlap, so a genuinely better trader is found more often, and its statistic is
exactly the one the leaderboard prints. Holm stays available as a cross-check that needs no
joint resampling.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from papertape.analysis.bootstrap import studentized_contrasts
from papertape.analysis.measures import MeanReturn, PerformanceMeasure, SharpeRatio, TotalReturn
from papertape.analysis.paired import sharpe_difference
from papertape.analysis.series import (
    as_float_list,
    check_alpha,
    check_positive,
    check_reps,
    paired_columns,
    return_matrix,
    return_series,
)
from papertape.engine.errors import ConfigError, DataError

__all__ = ["FamilywiseResult", "Measure", "beats_baseline", "holm", "romano_wolf"]

Measure = Literal["sharpe", "mean", "total_return"]


@dataclass(frozen=True, slots=True)
class FamilywiseResult:
    """Which traders beat the baseline after family-wise error control.

    Attributes:
        statistics: Each trader's difference with the baseline (annualised for Sharpe and mean).
        p_values: Family-wise adjusted p-values, one per trader.
        beats: True where the trader beats the baseline at level ``alpha`` after correction.
        alpha: The family-wise error rate controlled.
        block_length: Block length of the bootstrap in periods (0 when none was run).
        reps: Bootstrap resamples (0 when none was run).
        method: What was computed, in words.
    """

    statistics: tuple[float, ...]
    p_values: tuple[float, ...]
    beats: tuple[bool, ...]
    alpha: float
    block_length: float
    reps: int
    method: str


def holm(p_values: Sequence[float] | NDArray[np.float64]) -> list[float]:
    """Holm's step-down adjusted p-values, in the order given.

    The smallest p-value is multiplied by ``m``, the next by ``m - 1`` and so on, each adjusted
    value being at least the previous one and at most 1. Rejecting where the adjusted value is
    ``<= alpha`` controls the family-wise error rate at ``alpha`` under any dependence.

    Args:
        p_values: Unadjusted p-values in [0, 1].

    Returns:
        Adjusted p-values, in the input order.

    Raises:
        DataError: If a p-value is outside [0, 1] or not finite.
    """
    values = as_float_list(p_values, "p_values")
    if any(not 0.0 <= p <= 1.0 for p in values):
        raise DataError("p-values lie in [0, 1]")
    m = len(values)
    adjusted = [0.0] * m
    running = 0.0
    for rank, index in enumerate(sorted(range(m), key=lambda i: values[i])):
        running = max(running, min(1.0, (m - rank) * values[index]))
        adjusted[index] = running
    return adjusted


def romano_wolf(
    returns_matrix: ArrayLike,
    benchmark: ArrayLike,
    *,
    periods_per_year: float,
    measure: Measure = "sharpe",
    reps: int = 2000,
    seed: int = 0,
    block_length: float | None = None,
    alpha: float = 0.05,
) -> FamilywiseResult:
    """Romano–Wolf StepM: the columns that beat the benchmark with family-wise control.

    For each column k, ``t_k = θ_k / se_k`` with ``θ_k = f(column k) - f(benchmark)`` and the
    Ledoit–Wolf HAC standard error; from one joint circular block bootstrap,
    ``t*_{k,m} = (θ*_k - θ_k) / se*_k``. With the columns ordered by decreasing ``t``, the
    adjusted p-value of the j-th is ``max`` over ``i <= j`` of
    ``(#{m : max_{l >= i} t*_{l,m} >= t_(i)} + 1) / (reps + 1)``; a column beats the benchmark
    where it is ``<= alpha``. This is the step-down of Romano and Wolf (2005) stated through
    the adjusted p-values of Romano and Wolf (2016, algorithm 4.1).

    Args:
        returns_matrix: (periods × traders) per-period simple returns.
        benchmark: The baseline's per-period returns over the same periods.
        periods_per_year: Periods in a year, to annualise the reported differences.
        measure: ``sharpe`` (default), ``mean`` (mean return, arch's StepM statistic) or
            ``total_return``.
        reps: Bootstrap resamples; at least ``1/alpha - 1``.
        seed: Seed of the resampling.
        block_length: Block length in periods; chosen by Politis–White when None.
        alpha: Family-wise error rate.

    Returns:
        Differences, adjusted p-values and the verdict per column.

    Raises:
        DataError: If the inputs are unusable (lengths, NaN, too short, all constant).
        ConfigError: If a tuning value is out of range or ``measure`` is unknown.
    """
    scale_base = check_positive(periods_per_year, "periods_per_year")
    alpha = check_alpha(alpha)
    reps = check_reps(reps, alpha)
    models = return_matrix(returns_matrix, "returns_matrix")
    base = return_series(benchmark, "benchmark")
    joint = paired_columns(base, *models.T)
    chosen, scale = _measure(measure, len(base), scale_base)
    if measure == "total_return" and np.any(joint <= -1.0):
        raise DataError("a return of -100 % or worse stops compounding")
    boot = studentized_contrasts(joint, chosen, reps=reps, seed=seed, block_length=block_length)
    with np.errstate(divide="ignore", invalid="ignore"):
        observed = np.where(boot.std_error > 0, boot.estimate / boot.std_error, 0.0)
    adjusted = _stepdown_p_values(observed, boot.replicates)
    return FamilywiseResult(
        statistics=tuple(float(v) * scale for v in boot.estimate),
        p_values=tuple(adjusted),
        beats=tuple(bool(p <= alpha and t > 0) for p, t in zip(adjusted, observed, strict=True)),
        alpha=alpha,
        block_length=float(boot.block_length),
        reps=reps,
        method=f"Romano-Wolf StepM, studentized circular block bootstrap, {chosen.name}",
    )


def beats_baseline(
    returns_matrix: ArrayLike,
    benchmark: ArrayLike,
    *,
    periods_per_year: float,
    method: Literal["romano_wolf", "holm"] = "romano_wolf",
    reps: int = 2000,
    seed: int = 0,
    block_length: float | None = None,
    alpha: float = 0.05,
) -> FamilywiseResult:
    """Which traders beat the baseline's Sharpe ratio, after family-wise error control.

    Romano–Wolf is the default (see the module docstring for why). With ``method="holm"`` each
    trader gets its own two-sided :func:`~papertape.analysis.paired.sharpe_difference` test,
    the p-values are Holm-adjusted, and a trader beats the baseline where its adjusted p-value
    is ``<= alpha`` and its difference is positive.

    Args:
        returns_matrix: (periods × traders) per-period simple returns.
        benchmark: The baseline's per-period returns over the same periods.
        periods_per_year: Periods in a year.
        method: ``romano_wolf`` or ``holm``.
        reps: Bootstrap resamples.
        seed: Seed of the resampling.
        block_length: Block length in periods; Politis–White when None.
        alpha: Family-wise error rate.

    Returns:
        The verdict per trader.
    """
    if method == "romano_wolf":
        return romano_wolf(
            returns_matrix,
            benchmark,
            periods_per_year=periods_per_year,
            reps=reps,
            seed=seed,
            block_length=block_length,
            alpha=alpha,
        )
    if method != "holm":
        raise ConfigError("method", method, "choose romano_wolf or holm")
    models = return_matrix(returns_matrix, "returns_matrix")
    tests = [
        sharpe_difference(
            column,
            benchmark,
            periods_per_year=periods_per_year,
            reps=reps,
            seed=seed,
            block_length=block_length,
            alpha=alpha,
        )
        for column in models.T
    ]
    adjusted = holm([t.p_value for t in tests])
    return FamilywiseResult(
        statistics=tuple(t.statistic for t in tests),
        p_values=tuple(adjusted),
        beats=tuple(p <= alpha and t.statistic > 0 for p, t in zip(adjusted, tests, strict=True)),
        alpha=alpha,
        block_length=max(t.block_length for t in tests),
        reps=reps,
        method="Holm on two-sided Ledoit-Wolf Sharpe difference tests",
    )


def _measure(name: str, periods: int, periods_per_year: float) -> tuple[PerformanceMeasure, float]:
    if name == "sharpe":
        return SharpeRatio(), math.sqrt(periods_per_year)
    if name == "mean":
        return MeanReturn(), periods_per_year
    if name == "total_return":
        return TotalReturn(periods), 1.0
    raise ConfigError("measure", name, "choose sharpe, mean or total_return")


def _stepdown_p_values(
    observed: NDArray[np.float64], replicates: NDArray[np.float64]
) -> list[float]:
    reps = replicates.shape[0]
    order = np.argsort(-observed, kind="stable")
    adjusted = np.empty(observed.size)
    running = 0.0
    for position, column in enumerate(order):
        remaining = order[position:]
        largest = replicates[:, remaining].max(axis=1)
        raw = (np.count_nonzero(largest >= observed[column]) + 1) / (reps + 1)
        running = max(running, raw)
        adjusted[column] = running
    return [float(p) for p in adjusted]
