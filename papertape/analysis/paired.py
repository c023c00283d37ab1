"""Paired tests of two traders on the same tape: Sharpe ratio and total return differences.

Both tests follow Ledoit and Wolf (2008), "Robust performance hypothesis testing with the Sharpe
ratio", Journal of Empirical Finance 15(5): the difference ``θ = f(a) - f(b)`` is estimated on
the paired per-period returns, studentized by its delta-method HAC standard error, and the
distribution of the studentized statistic is taken from a circular block bootstrap of the
*pairs* (so the correlation between the two traders, which is usually large on one tape, is
kept). The two-sided p-value for ``H0: θ = 0`` is::

    p = (#{m : |t*_m| >= |θ / se|} + 1) / (reps + 1),   t*_m = (θ*_m - θ) / se*_m

and the interval is the symmetric studentized one, ``θ ± z* · se`` with ``z*`` the
``⌊α (reps + 1)⌋``-th largest ``|t*_m|``, so that ``0`` lies outside the interval exactly when
``p <= α`` (ties aside).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from papertape.analysis.bootstrap import StudentizedBootstrap, studentized_contrasts
from papertape.analysis.measures import SharpeRatio, TotalReturn
from papertape.analysis.series import (
    check_alpha,
    check_positive,
    check_reps,
    paired_columns,
    return_series,
)
from papertape.engine.errors import DataError

__all__ = ["PairedTest", "sharpe_difference", "total_return_difference"]

SHARPE_METHOD = "Ledoit-Wolf studentized circular block bootstrap, annualised Sharpe difference"
TOTAL_RETURN_METHOD = "Ledoit-Wolf studentized circular block bootstrap, total return difference"


@dataclass(frozen=True, slots=True)
class PairedTest:
    """The outcome of a paired test of ``a - b``.

    Attributes:
        statistic: The estimated difference (a minus b), in the test's units.
        ci_low: Lower end of the two-sided ``1 - alpha`` confidence interval.
        ci_high: Upper end of that interval.
        p_value: Two-sided bootstrap p-value for "no difference".
        block_length: Block length of the circular block bootstrap, in periods.
        reps: Number of bootstrap resamples.
        method: What was computed, in words.
    """

    statistic: float
    ci_low: float
    ci_high: float
    p_value: float
    block_length: float
    reps: int
    method: str


def sharpe_difference(
    returns_a: ArrayLike,
    returns_b: ArrayLike,
    *,
    periods_per_year: float,
    reps: int = 2000,
    seed: int = 0,
    block_length: float | None = None,
    alpha: float = 0.05,
) -> PairedTest:
    """Difference of annualised Sharpe ratios, a minus b, with a Ledoit–Wolf interval.

    The Sharpe ratio of each trader is ``mean / std`` of its per-period returns (no risk-free
    rate: a paper trader's cash earns nothing), annualised by ``sqrt(periods_per_year)``. With
    ``v = (E r_a, E r_b, E r_a², E r_b²)`` the difference is ``f(v) = μ_a / sqrt(γ_a - μ_a²) -
    μ_b / sqrt(γ_b - μ_b²)`` and its standard error is ``sqrt(∇f' Ψ ∇f / T)``, Ψ being the
    prewhitened quadratic-spectral HAC estimate of the long-run covariance of
    ``(r_a, r_b, r_a², r_b²)``; in each bootstrap world Ψ is replaced by the block estimate
    built from the resample's own blocks. A trader whose returns are all zero (always flat) has
    a Sharpe ratio of 0.

    Args:
        returns_a: Per-period simple returns of trader a.
        returns_b: Per-period simple returns of trader b over the same periods.
        periods_per_year: Periods in a year (252 for daily equity bars, 8760 for hourly crypto).
        reps: Bootstrap resamples; at least ``1/alpha - 1``.
        seed: Seed of the resampling; the same inputs and seed give the same result.
        block_length: Block length in periods; chosen by Politis–White when None.
        alpha: Level of the test and ``1 - alpha`` coverage of the interval.

    Returns:
        The annualised Sharpe difference, its interval and p-value.

    Raises:
        DataError: If the series differ in length, are too short, hold NaN, or one of them is a
            non-zero constant (its Sharpe ratio would be infinite). Identical series are no
            error: they give a difference of 0 with p = 1.
        ConfigError: If ``alpha``, ``reps`` or ``periods_per_year`` is out of range.
    """
    scale = math.sqrt(check_positive(periods_per_year, "periods_per_year"))
    alpha = check_alpha(alpha)
    reps = check_reps(reps, alpha)
    a = return_series(returns_a, "returns_a")
    b = return_series(returns_b, "returns_b")
    for series, name in ((a, "returns_a"), (b, "returns_b")):
        _reject_riskless_gain(series, name)
    boot = studentized_contrasts(
        paired_columns(b, a), SharpeRatio(), reps=reps, seed=seed, block_length=block_length
    )
    return _paired_result(boot, scale, alpha, reps, SHARPE_METHOD)


def total_return_difference(
    returns_a: ArrayLike,
    returns_b: ArrayLike,
    *,
    periods_per_year: float | None = None,
    reps: int = 2000,
    seed: int = 0,
    block_length: float | None = None,
    alpha: float = 0.05,
) -> PairedTest:
    """Difference of total compounded returns, a minus b, with a Ledoit–Wolf interval.

    A total return is ``prod(1 + r) - 1 = exp(T m) - 1`` with ``m`` the mean log return, so the
    difference is a smooth function of ``(m_a, m_b)`` and is studentized exactly as the Sharpe
    difference is (delta method on the HAC long-run covariance of the log returns; block
    estimate in each resample). The interval is for the difference of total returns over the
    whole sample (0.05 is five percentage points), not annualised.

    Args:
        returns_a: Per-period simple returns of trader a (each above -1).
        returns_b: Per-period simple returns of trader b over the same periods.
        periods_per_year: Accepted so that both paired tests take the same keywords; a total
            return is not annualised, so it only has to be positive when given.
        reps: Bootstrap resamples; at least ``1/alpha - 1``.
        seed: Seed of the resampling.
        block_length: Block length in periods; chosen by Politis–White when None.
        alpha: Level of the test and ``1 - alpha`` coverage of the interval.

    Returns:
        The total return difference, its interval and p-value.

    Raises:
        DataError: If the series differ in length, are too short, hold NaN or a return <= -1.
        ConfigError: If ``alpha`` or ``reps`` is out of range.
    """
    if periods_per_year is not None:
        check_positive(periods_per_year, "periods_per_year")
    alpha = check_alpha(alpha)
    reps = check_reps(reps, alpha)
    a = return_series(returns_a, "returns_a")
    b = return_series(returns_b, "returns_b")
    for series, name in ((a, "returns_a"), (b, "returns_b")):
        if np.any(series <= -1.0):
            raise DataError(f"{name} holds a return of -100 % or worse; compounding stops there")
    boot = studentized_contrasts(
        paired_columns(b, a), TotalReturn(len(a)), reps=reps, seed=seed, block_length=block_length
    )
    return _paired_result(boot, 1.0, alpha, reps, TOTAL_RETURN_METHOD)


def critical_value(abs_replicates: NDArray[np.float64], alpha: float) -> float:
    """The ``⌊α (reps + 1)⌋``-th largest of the absolute studentized replicates."""
    rank = math.floor(alpha * (abs_replicates.size + 1) + 1e-9)
    return float(np.sort(abs_replicates)[::-1][rank - 1])


def _paired_result(
    boot: StudentizedBootstrap, scale: float, alpha: float, reps: int, method: str
) -> PairedTest:
    estimate = float(boot.estimate[0])
    std_error = float(boot.std_error[0])
    abs_replicates = np.abs(boot.replicates[:, 0])
    if std_error > 0:
        observed = abs(estimate) / std_error
        half_width = critical_value(abs_replicates, alpha) * std_error
    else:  # identical traders (p = 1), or a difference without any risk (smallest p)
        observed = 0.0 if estimate == 0 else math.inf
        half_width = 0.0
    exceed = int(np.count_nonzero(abs_replicates >= observed))
    return PairedTest(
        statistic=estimate * scale,
        ci_low=(estimate - half_width) * scale,
        ci_high=(estimate + half_width) * scale,
        p_value=(exceed + 1) / (reps + 1),
        block_length=float(boot.block_length),
        reps=reps,
        method=method,
    )


def _reject_riskless_gain(series: NDArray[np.float64], name: str) -> None:
    if np.ptp(series) == 0 and series[0] != 0:
        raise DataError(
            f"{name} is a constant non-zero return; its Sharpe ratio is infinite, not testable"
        )
