"""The studentized circular block bootstrap of Ledoit and Wolf (2008), for any smooth measure.

Given a (periods × columns) return matrix whose column 0 is the benchmark, this module estimates
the contrasts ``θ_k = f(column k) - f(column 0)`` of a :class:`PerformanceMeasure`, their
delta-method standard errors and, for ``reps`` circular-block resamples of the *rows* (all
columns resampled together, so the pairing of returns is kept), the studentized replicates::

    t*_k = (θ*_k - θ_k) / se*_k

The standard errors follow Ledoit and Wolf:

* on the data, ``se_k = sqrt(∇_k' Ψ ∇_k / T)`` with Ψ the prewhitened quadratic-spectral HAC
  estimate of the moments' long-run covariance (:mod:`papertape.analysis.hac`);
* on a resample built from ``b`` blocks of length ``l``, the "natural" block estimate
  ``Ψ* = (1/T) Σ_j S_j S_j'``, where ``S_j`` is the sum over block ``j`` of the resampled
  moments centred at their resample mean (Götze and Künsch 1996); the last block may be short.

Because a resample is a concatenation of blocks, everything a replicate needs is a block sum,
read off one cumulative sum of the circularly extended moments: no (reps × periods) array is
built. The block start positions come from ``arch.bootstrap.CircularBlockBootstrap`` (its
``update_indices``), so a seed reproduces arch's own resamples exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from papertape.analysis.hac import long_run_covariance
from papertape.analysis.measures import PerformanceMeasure
from papertape.analysis.series import require_arch
from papertape.engine.errors import ConfigError

__all__ = ["MIN_BLOCKS", "StudentizedBootstrap", "choose_block_length", "studentized_contrasts"]

#: A block length is capped so that at least this many blocks fit: the block estimate of the
#: standard error needs several blocks to be stable.
MIN_BLOCKS = 8

# Replicates are processed in chunks of at most this many floats (memory stays ~100 MB).
_CHUNK_FLOATS = 4_000_000


@dataclass(frozen=True, slots=True)
class StudentizedBootstrap:
    """Contrasts, their standard errors and their studentized bootstrap replicates.

    Attributes:
        estimate: ``θ_k`` for k = 1..K (column k minus column 0), per period.
        std_error: Delta-method HAC standard error of each contrast.
        replicates: (reps × K) studentized, centred replicates ``t*``.
        block_length: The block length used.
    """

    estimate: NDArray[np.float64]
    std_error: NDArray[np.float64]
    replicates: NDArray[np.float64]
    block_length: int


def choose_block_length(moments: NDArray[np.float64]) -> int:
    """Politis–White (2004, corrected 2009) block length for a circular block bootstrap.

    ``arch.bootstrap.optimal_block_length`` is applied to every moment column that varies; the
    largest estimate is used (the slowest-decaying dependence sets the block), rounded up and
    capped so that :data:`MIN_BLOCKS` blocks fit.

    Args:
        moments: (periods × k) moment series.

    Returns:
        A block length of at least 1.
    """
    from arch.bootstrap import optimal_block_length  # arch (pandas, scipy) loads on use

    periods = moments.shape[0]
    varying = moments[:, np.ptp(moments, axis=0) > 0]
    estimate = 1.0
    if varying.shape[1]:
        lengths = np.asarray(optimal_block_length(varying)["circular"], dtype=np.float64)
        finite = lengths[np.isfinite(lengths)]
        if finite.size:
            estimate = float(finite.max())
    return int(min(max(1, math.ceil(estimate)), max(1, periods // MIN_BLOCKS)))


def studentized_contrasts(
    returns: NDArray[np.float64],
    measure: PerformanceMeasure,
    *,
    reps: int,
    seed: int,
    block_length: float | None = None,
) -> StudentizedBootstrap:
    """Studentized circular block bootstrap of ``measure(column k) - measure(column 0)``.

    A contrast between series that do not differ in their moments (a trader identical to the
    baseline, two always-flat traders) has a standard error of 0; its replicates are 0.

    Args:
        returns: (periods × columns) per-period returns; column 0 is the benchmark.
        measure: The performance measure compared.
        reps: Number of bootstrap resamples.
        seed: Seed of the resampling; the same seed gives the same replicates.
        block_length: Block length in periods; Politis–White when None. A fractional value is
            rounded up.

    Returns:
        Estimates, standard errors and replicates.

    Raises:
        ConfigError: If a given ``block_length`` does not fit the sample.
    """
    require_arch()
    periods, columns = returns.shape
    moments = measure.moments(returns)
    per_column = moments.shape[2]
    flat = moments.reshape(periods, columns * per_column)

    means = moments.mean(axis=0)
    estimate = _contrast(measure.values(means))
    grads = measure.gradients(means)
    weights = np.zeros((columns - 1, columns, per_column))
    weights[:, 1:, :] = np.eye(columns - 1)[:, :, None] * grads[None, 1:, :]
    weights[:, 0, :] = -grads[0]
    weights = weights.reshape(columns - 1, columns * per_column)
    psi = long_run_covariance(flat)
    std_error = np.sqrt(np.maximum(np.einsum("kd,de,ke->k", weights, psi, weights), 0.0) / periods)

    length = (
        choose_block_length(flat) if block_length is None else _fixed_length(block_length, periods)
    )
    starts = _block_starts(flat, length, reps, seed)
    replicates = _replicates(flat, moments.shape[1:], measure, estimate, starts, length)
    return StudentizedBootstrap(estimate, std_error, replicates, length)


def _fixed_length(block_length: float, periods: int) -> int:
    if not math.isfinite(block_length):
        raise ConfigError("block_length", block_length, "must be a finite number of periods")
    length = math.ceil(block_length)
    if not 1 <= length <= periods:
        raise ConfigError("block_length", block_length, f"must lie in [1, {periods}] periods")
    return length


def _contrast(values: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(values[..., 1:] - values[..., :1], dtype=np.float64)


def _block_starts(
    flat: NDArray[np.float64], length: int, reps: int, seed: int
) -> NDArray[np.int64]:
    """First index of every block of every resample, drawn by arch's circular block bootstrap."""
    from arch.bootstrap import CircularBlockBootstrap

    sampler = CircularBlockBootstrap(length, flat, seed=seed)
    return np.stack([sampler.update_indices()[::length] for _ in range(reps)]).astype(np.int64)


def _replicates(
    flat: NDArray[np.float64],
    shape: tuple[int, ...],
    measure: PerformanceMeasure,
    estimate: NDArray[np.float64],
    starts: NDArray[np.int64],
    length: int,
) -> NDArray[np.float64]:
    periods, width = flat.shape
    reps, blocks = starts.shape
    sizes = np.full(blocks, length, dtype=np.int64)
    sizes[-1] = periods - (blocks - 1) * length
    extended = np.concatenate([flat, flat[:length]], axis=0)
    cumulative = np.concatenate([np.zeros((1, width)), np.cumsum(extended, axis=0)], axis=0)
    chunk = max(1, _CHUNK_FLOATS // (blocks * width))
    out = np.empty((reps, estimate.size))
    for first in range(0, reps, chunk):
        part = starts[first : first + chunk]
        sums = cumulative[part + sizes] - cumulative[part]  # (r, blocks, width)
        mean = sums.sum(axis=1) / periods
        centred = sums - sizes[None, :, None] * mean[:, None, :]
        mean_m = mean.reshape(-1, *shape)
        theta = _contrast(measure.values(mean_m))
        grads = measure.gradients(mean_m)  # (r, columns, p)
        projected = np.einsum("rbcp,rcp->rbc", centred.reshape(len(part), blocks, *shape), grads)
        contrast = projected[..., 1:] - projected[..., :1]  # (r, blocks, K)
        se = np.sqrt((contrast * contrast).sum(axis=1)) / periods
        deviation = theta - estimate
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(
                se > 0,
                deviation / se,
                np.where(deviation == 0, 0.0, np.copysign(np.inf, deviation)),
            )
        out[first : first + chunk] = t
    return out
