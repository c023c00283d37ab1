"""Volatility indicators: true range, ATR, Bollinger bands, z-score and the Choppiness index."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from papertape.engine.indicators._params import (
    FloatArray,
    as_series,
    check_multiplier,
    check_period,
    same_length,
)
from papertape.engine.indicators._rolling import (
    rolling_max,
    rolling_mean_var,
    rolling_min,
    rolling_sum,
)
from papertape.engine.indicators._smoothing import seeded_smooth

__all__ = ["BollingerSeries", "atr", "bollinger", "choppiness", "true_range", "zscore"]


class BollingerSeries(NamedTuple):
    """The three Bollinger bands; unpacks as ``mid, upper, lower``."""

    mid: FloatArray
    upper: FloatArray
    lower: FloatArray


def true_range(high: ArrayLike, low: ArrayLike, close: ArrayLike) -> FloatArray:
    """True range: ``max(high, prev_close) - min(low, prev_close)``.

    Returns:
        Array of the same length; the first bar has no previous close and is NaN (as in
        TA-Lib), so every indicator built on it warms up one bar later than its period.

    Raises:
        DataError: If the columns differ in length.
    """
    h, lo, c = same_length("true_range", high, low, close)
    out = np.full(h.size, np.nan)
    if h.size > 1:
        prev = c[:-1]
        out[1:] = np.maximum(h[1:], prev) - np.minimum(lo[1:], prev)
    return out


def atr(high: ArrayLike, low: ArrayLike, close: ArrayLike, period: int = 14) -> FloatArray:
    """Average true range with Wilder's smoothing.

    Seeded with the mean of the first ``period`` true ranges (bars 1..period), then
    ``atr += (tr - atr) / period``; identical to TA-Lib's ``ATR``.

    Returns:
        Array of the same length; the first ``period`` values are NaN.

    Raises:
        ConfigError: If ``period`` is not an integer >= 1.
        DataError: If the columns differ in length.
    """
    period = check_period("atr", "period", period)
    tr = true_range(high, low, close)
    out = np.full(tr.size, np.nan)
    out[1:] = seeded_smooth(tr[1:], period, 1.0 / period)
    return out


def bollinger(close: ArrayLike, period: int = 20, num_std: float = 2.0) -> BollingerSeries:
    """Bollinger bands: SMA ± ``num_std`` standard deviations.

    The standard deviation is the *population* one (``ddof=0``), as in Bollinger's own
    definition and TA-Lib's ``BBANDS``; pandas' ``rolling().std()`` defaults to the sample one
    and gives bands wider by ``sqrt(period / (period - 1))``.

    Args:
        close: Price series.
        period: Window length, at least 1.
        num_std: Band width in standard deviations, > 0.

    Returns:
        ``BollingerSeries(mid, upper, lower)``; the first ``period - 1`` values are NaN.

    Raises:
        ConfigError: If ``period`` or ``num_std`` is invalid.
    """
    period = check_period("bollinger", "period", period)
    width = check_multiplier("bollinger", "num_std", num_std)
    mid, var = rolling_mean_var(as_series("bollinger", close), period)
    band = width * np.sqrt(var)
    return BollingerSeries(mid, mid + band, mid - band)


def zscore(close: ArrayLike, period: int = 20) -> FloatArray:
    """Distance of the value from its rolling mean in rolling (population) standard deviations.

    A window whose values are all equal has z-score 0 (the value *is* the mean), not NaN.

    Returns:
        Array of the same length; the first ``period - 1`` values are NaN.

    Raises:
        ConfigError: If ``period`` is not an integer >= 1.
    """
    period = check_period("zscore", "period", period)
    series = as_series("zscore", close)
    mean, var = rolling_mean_var(series, period)
    std = np.sqrt(var)
    out = np.zeros(series.size)
    np.divide(series - mean, std, out=out, where=std > 0.0)
    out[np.isnan(mean)] = np.nan
    return out


def choppiness(high: ArrayLike, low: ArrayLike, close: ArrayLike, period: int = 14) -> FloatArray:
    """Choppiness index (E. W. Dreiss).

    ``100 * log10(sum(tr, period) / (max(high, period) - min(low, period))) / log10(period)``
    over the last ``period`` bars: near 100 in a sideways market, low in a trend.

    Returns:
        Array of the same length; the first ``period`` values are NaN (true range starts at
        the second bar), and so is any bar whose window has zero high-low range.

    Raises:
        ConfigError: If ``period`` is not an integer >= 2.
        DataError: If the columns differ in length.
    """
    period = check_period("choppiness", "period", period, minimum=2)
    h, lo, c = same_length("choppiness", high, low, close)
    out = np.full(h.size, np.nan)
    if h.size <= period:
        return out
    tr_sum = rolling_sum(true_range(h, lo, c)[1:], period)[period - 1 :]
    span = (rolling_max(h, period) - rolling_min(lo, period))[period:]
    value = np.full(span.size, np.nan)
    np.divide(tr_sum, span, out=value, where=span > 0.0)
    out[period:] = 100.0 * np.log10(value) / math.log10(period)
    return out
