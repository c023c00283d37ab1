"""Trend indicators: moving averages, MACD and the least-squares trend slope."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from papertape.engine.errors import ConfigError, DataError
from papertape.engine.indicators._params import FloatArray, as_series, check_period
from papertape.engine.indicators._rolling import rolling_mean, rolling_slope
from papertape.engine.indicators._smoothing import seeded_smooth

__all__ = ["MACDSeries", "ema", "macd", "sma", "trend_slope"]


class MACDSeries(NamedTuple):
    """The three MACD series; unpacks as ``line, signal, hist``."""

    line: FloatArray
    signal: FloatArray
    hist: FloatArray


def sma(close: ArrayLike, period: int) -> FloatArray:
    """Simple moving average: mean of the last ``period`` values.

    Args:
        close: Price (or any) series.
        period: Window length, at least 1.

    Returns:
        Array of the same length; the first ``period - 1`` values are NaN.

    Raises:
        ConfigError: If ``period`` is not an integer >= 1.
    """
    period = check_period("sma", "period", period)
    return rolling_mean(as_series("sma", close), period)


def ema(close: ArrayLike, period: int) -> FloatArray:
    """Exponential moving average with ``alpha = 2 / (period + 1)``, seeded with an SMA.

    The first value (at ``period - 1``) is the simple mean of the first ``period`` values, as
    in TA-Lib; afterwards ``ema += alpha * (close - ema)``.

    Args:
        close: Price (or any) series.
        period: Span, at least 1.

    Returns:
        Array of the same length; the first ``period - 1`` values are NaN.

    Raises:
        ConfigError: If ``period`` is not an integer >= 1.
    """
    period = check_period("ema", "period", period)
    return seeded_smooth(as_series("ema", close), period, 2.0 / (period + 1))


def macd(close: ArrayLike, fast: int = 12, slow: int = 26, signal: int = 9) -> MACDSeries:
    """Moving average convergence/divergence.

    ``line = ema(close, fast) - ema(close, slow)``; ``signal`` is the EMA of the line, seeded
    with the mean of its first ``signal`` defined values; ``hist = line - signal``. Both EMAs
    are seeded from the start of the series (TA-Lib instead seeds the fast EMA at the slow
    one's first bar; the two agree once the seed has decayed, a few dozen bars later).

    Args:
        close: Price series.
        fast: Span of the fast EMA, at least 1.
        slow: Span of the slow EMA, greater than ``fast``.
        signal: Span of the signal EMA, at least 1.

    Returns:
        ``MACDSeries(line, signal, hist)``; ``line`` is NaN for the first ``slow - 1`` bars,
        ``signal`` and ``hist`` for the first ``slow + signal - 2``.

    Raises:
        ConfigError: If a span is not a positive integer or ``slow <= fast``.
    """
    fast = check_period("macd", "fast", fast)
    slow = check_period("macd", "slow", slow)
    signal = check_period("macd", "signal", signal)
    if slow <= fast:
        raise ConfigError("macd.slow", slow, f"must be greater than macd.fast = {fast}")
    series = as_series("macd", close)
    line = seeded_smooth(series, fast, 2.0 / (fast + 1)) - seeded_smooth(
        series, slow, 2.0 / (slow + 1)
    )
    sig = np.full(series.size, np.nan)
    if series.size >= slow:
        sig[slow - 1 :] = seeded_smooth(line[slow - 1 :], signal, 2.0 / (signal + 1))
    return MACDSeries(line, sig, line - sig)


def trend_slope(close: ArrayLike, period: int, log: bool = False) -> FloatArray:
    """Least-squares slope of the last ``period`` closes against the bar number.

    Args:
        close: Price series.
        period: Number of closes in the fit, at least 2.
        log: Fit ``log(close)`` instead: the slope is then a log-return per bar.

    Returns:
        Slope in price units per bar (log units per bar with ``log=True``); the first
        ``period - 1`` values are NaN.

    Raises:
        ConfigError: If ``period`` is not an integer >= 2.
        DataError: If ``log`` is set and a close is not strictly positive.
    """
    period = check_period("trend_slope", "period", period, minimum=2)
    series = as_series("trend_slope", close)
    if log:
        if not np.all(series > 0.0):
            raise DataError("trend_slope: log=True needs strictly positive closes")
        series = np.log(series)
    return rolling_slope(series, period)
