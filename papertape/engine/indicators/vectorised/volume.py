"""Volume indicators: VWAP (cumulative and rolling) and on-balance volume."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from papertape.engine.indicators._params import FloatArray, check_period, same_length
from papertape.engine.indicators._rolling import rolling_sum

__all__ = ["obv", "rolling_vwap", "typical_price", "vwap"]


def typical_price(high: ArrayLike, low: ArrayLike, close: ArrayLike) -> FloatArray:
    """``(high + low + close) / 3``, the price VWAP weighs by volume."""
    h, lo, c = same_length("typical_price", high, low, close)
    return (h + lo + c) / 3.0


def _weighted(
    name: str, high: ArrayLike, low: ArrayLike, close: ArrayLike, volume: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    h, lo, c, v = same_length(name, high, low, close, volume)
    return typical_price(h, lo, c) * v, v


def _divide(num: FloatArray, den: FloatArray) -> FloatArray:
    out = np.full(num.size, np.nan)
    np.divide(num, den, out=out, where=den != 0.0)
    return out


def vwap(high: ArrayLike, low: ArrayLike, close: ArrayLike, volume: ArrayLike) -> FloatArray:
    """Cumulative volume-weighted average of the typical price since the first bar.

    No session reset: slice the input per session to anchor it elsewhere.

    Returns:
        Array of the same length; NaN while the cumulative volume is still 0.

    Raises:
        DataError: If the columns differ in length.
    """
    pv, v = _weighted("vwap", high, low, close, volume)
    return _divide(np.cumsum(pv), np.cumsum(v))


def rolling_vwap(
    high: ArrayLike, low: ArrayLike, close: ArrayLike, volume: ArrayLike, period: int
) -> FloatArray:
    """Volume-weighted average of the typical price over the last ``period`` bars.

    Returns:
        Array of the same length; the first ``period - 1`` values are NaN, and so is any
        window without volume.

    Raises:
        ConfigError: If ``period`` is not an integer >= 1.
        DataError: If the columns differ in length.
    """
    period = check_period("rolling_vwap", "period", period)
    pv, v = _weighted("rolling_vwap", high, low, close, volume)
    return _divide(rolling_sum(pv, period), rolling_sum(v, period))


def obv(close: ArrayLike, volume: ArrayLike) -> FloatArray:
    """On-balance volume.

    Starts at the first bar's volume, then adds the volume on an up close, subtracts it on a
    down close and leaves it unchanged on an unchanged close (TA-Lib's convention; the ``ta``
    package adds the volume on unchanged closes).

    Returns:
        Array of the same length, no warm-up.

    Raises:
        DataError: If the columns differ in length.
    """
    c, v = same_length("obv", close, volume)
    signed = np.empty(c.size)
    if c.size:
        signed[0] = v[0]
        signed[1:] = np.sign(c[1:] - c[:-1]) * v[1:]
    return np.cumsum(signed)
