"""Momentum and directional-movement indicators: RSI and ADX (Wilder)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from papertape.engine.indicators._params import FloatArray, as_series, check_period, same_length
from papertape.engine.indicators._smoothing import seeded_smooth
from papertape.engine.indicators.vectorised.volatility import true_range

__all__ = ["ADXSeries", "adx", "rsi"]


class ADXSeries(NamedTuple):
    """ADX with its directional indicators; unpacks as ``adx, plus_di, minus_di``."""

    adx: FloatArray
    plus_di: FloatArray
    minus_di: FloatArray


def _ratio(part: FloatArray, whole: FloatArray) -> FloatArray:
    """``100 * part / whole`` with 0 where ``whole`` is 0 (and NaN kept where it is NaN)."""
    out = np.zeros_like(part)
    np.divide(100.0 * part, whole, out=out, where=whole != 0.0)
    out[np.isnan(whole)] = np.nan
    return out


def rsi(close: ArrayLike, period: int = 14) -> FloatArray:
    """Relative strength index with Wilder's smoothing.

    Average gain and loss are seeded with the plain mean of the first ``period`` changes and
    then smoothed with ``alpha = 1 / period`` (as TA-Lib does);
    ``rsi = 100 * avg_gain / (avg_gain + avg_loss)``. A series that never moved during the
    window has no gains and no losses: its RSI is 50 (neutral), where TA-Lib reports 0.

    Args:
        close: Price series.
        period: Smoothing period, at least 1.

    Returns:
        Values in [0, 100]; the first ``period`` values are NaN.

    Raises:
        ConfigError: If ``period`` is not an integer >= 1.
    """
    period = check_period("rsi", "period", period)
    series = as_series("rsi", close)
    out = np.full(series.size, np.nan)
    if series.size <= period:
        return out
    change = np.diff(series)
    gain = seeded_smooth(np.maximum(change, 0.0), period, 1.0 / period)
    loss = seeded_smooth(np.maximum(-change, 0.0), period, 1.0 / period)
    total = gain + loss
    value = np.full(change.size, 50.0)
    np.divide(100.0 * gain, total, out=value, where=total != 0.0)
    value[np.isnan(total)] = np.nan
    out[1:] = value
    return out


def adx(high: ArrayLike, low: ArrayLike, close: ArrayLike, period: int = 14) -> ADXSeries:
    """Average directional index with the +DI and -DI lines (Wilder).

    From the second bar: ``+DM = up`` if ``up > down`` and ``up > 0`` else 0, where
    ``up = high - prev_high`` and ``down = prev_low - low`` (``-DM`` symmetrically), and the
    true range. The three are Wilder-smoothed, seeded with the mean of their first ``period``
    values (Wilder's book; TA-Lib seeds with ``period - 1`` values plus one smoothing step, so
    the two agree only once the seed has decayed). ``+DI = 100 * +DM_s / TR_s``,
    ``DX = 100 * |+DI - -DI| / (+DI + -DI)`` (0 when both are 0) and ADX is the
    Wilder-smoothed DX, seeded with the mean of its first ``period`` values.

    Args:
        high: High prices.
        low: Low prices.
        close: Close prices.
        period: Smoothing period, at least 1.

    Returns:
        ``ADXSeries(adx, plus_di, minus_di)``; the DIs are NaN for the first ``period`` bars,
        ADX for the first ``2 * period - 1``.

    Raises:
        ConfigError: If ``period`` is not an integer >= 1.
        DataError: If the columns differ in length.
    """
    period = check_period("adx", "period", period)
    h, lo, c = same_length("adx", high, low, close)
    n = h.size
    plus_di = np.full(n, np.nan)
    minus_di = np.full(n, np.nan)
    adx_out = np.full(n, np.nan)
    if n <= period:
        return ADXSeries(adx_out, plus_di, minus_di)
    up = h[1:] - h[:-1]
    down = lo[:-1] - lo[1:]
    plus_dm = np.where((up > down) & (up > 0.0), up, 0.0)
    minus_dm = np.where((down > up) & (down > 0.0), down, 0.0)
    alpha = 1.0 / period
    tr = seeded_smooth(true_range(h, lo, c)[1:], period, alpha)
    pdi = _ratio(seeded_smooth(plus_dm, period, alpha), tr)
    mdi = _ratio(seeded_smooth(minus_dm, period, alpha), tr)
    dx = _ratio(np.abs(pdi - mdi), pdi + mdi)
    plus_di[1:] = pdi
    minus_di[1:] = mdi
    adx_out[period:] = seeded_smooth(dx[period - 1 :], period, alpha)
    return ADXSeries(adx_out, plus_di, minus_di)
