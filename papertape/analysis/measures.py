"""Performance measures written as smooth functions of per-period moments.

The delta method and the studentized bootstrap both need a measure as ``f(mean of moments)``
with its gradient. Each measure here maps a (periods × columns) return matrix to moment series
of shape (periods × columns × p), evaluates itself on moment means of shape (..., columns, p)
and returns the gradient with respect to those means (each column's measure depends only on its
own moments). Leading axes broadcast, so one call evaluates thousands of bootstrap replicates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

__all__ = ["MeanReturn", "PerformanceMeasure", "SharpeRatio", "TotalReturn"]

# Below this share of the second moment a column's variance counts as zero (a flat trader).
_FLAT = 1e-10


class PerformanceMeasure(Protocol):
    """A per-column measure ``f(moment means)`` with its gradient."""

    @property
    def name(self) -> str:
        """Short name used in reports (``sharpe``, ``total return``)."""
        ...

    def moments(self, returns: NDArray[np.float64]) -> NDArray[np.float64]:
        """Moment series (periods × columns × p) of a (periods × columns) return matrix."""
        ...

    def values(self, means: NDArray[np.float64]) -> NDArray[np.float64]:
        """The measure of each column from moment means of shape (..., columns, p)."""
        ...

    def gradients(self, means: NDArray[np.float64]) -> NDArray[np.float64]:
        """Gradient of each column's measure with respect to its own moment means."""
        ...


@dataclass(frozen=True, slots=True)
class SharpeRatio:
    """Per-period Sharpe ratio ``μ / sqrt(γ - μ²)`` from the moments ``(r, r²)``.

    The variance is the plain (not ``n - 1``) second central moment, as in Ledoit and Wolf
    (2008); the difference from the ``n - 1`` version is a factor ``sqrt((n-1)/n)``. A column
    without variance (a trader that stayed flat) has a Sharpe ratio of 0 and a zero gradient,
    so comparing against an always-flat baseline tests the other trader's Sharpe against 0.
    """

    name: str = "sharpe"

    def moments(self, returns: NDArray[np.float64]) -> NDArray[np.float64]:
        """``(r, r²)`` for each column."""
        return np.stack([returns, returns * returns], axis=-1)

    def values(self, means: NDArray[np.float64]) -> NDArray[np.float64]:
        """``μ / σ`` per column, 0 where the column has no variance."""
        mu, gamma = means[..., 0], means[..., 1]
        variance, flat = _variance(mu, gamma)
        return np.where(flat, 0.0, mu / np.sqrt(np.where(flat, 1.0, variance)))

    def gradients(self, means: NDArray[np.float64]) -> NDArray[np.float64]:
        """``(γ / σ³, -μ / (2σ³))`` per column, 0 where the column has no variance."""
        mu, gamma = means[..., 0], means[..., 1]
        variance, flat = _variance(mu, gamma)
        cubed = np.where(flat, 1.0, variance) ** 1.5
        grad = np.stack([gamma / cubed, -mu / (2.0 * cubed)], axis=-1)
        return np.where(flat[..., None], 0.0, grad)


@dataclass(frozen=True, slots=True)
class TotalReturn:
    """Compounded total return ``exp(T · mean log(1 + r)) - 1`` over ``periods`` periods."""

    periods: int
    name: str = "total return"

    def moments(self, returns: NDArray[np.float64]) -> NDArray[np.float64]:
        """``log(1 + r)`` for each column."""
        return np.log1p(returns)[..., None]

    def values(self, means: NDArray[np.float64]) -> NDArray[np.float64]:
        """``exp(T m) - 1`` per column."""
        return np.asarray(np.expm1(self.periods * means[..., 0]), dtype=np.float64)

    def gradients(self, means: NDArray[np.float64]) -> NDArray[np.float64]:
        """``T exp(T m)`` per column."""
        return np.asarray(self.periods * np.exp(self.periods * means), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class MeanReturn:
    """Mean per-period return (the statistic of Hansen's SPA and arch's StepM)."""

    name: str = "mean return"

    def moments(self, returns: NDArray[np.float64]) -> NDArray[np.float64]:
        """``r`` for each column."""
        return returns[..., None].astype(np.float64)

    def values(self, means: NDArray[np.float64]) -> NDArray[np.float64]:
        """The mean itself."""
        return np.asarray(means[..., 0], dtype=np.float64)

    def gradients(self, means: NDArray[np.float64]) -> NDArray[np.float64]:
        """A gradient of ones."""
        return np.ones_like(means)


def _variance(
    mu: NDArray[np.float64], gamma: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    variance = gamma - mu * mu
    flat = variance <= _FLAT * np.maximum(gamma, 1e-300)
    return variance, flat
