"""Technical indicators in two forms that agree to floating-point tolerance.

* Vectorised functions (:mod:`engine.indicators.vectorised`) take whole float64 histories and
  return arrays of the same length with NaN during the warm-up; numpy only, O(n).
* Incremental classes (:mod:`engine.indicators.incremental`) take one bar per ``update`` in
  the tick loop; O(1) (amortised), plain Python floats, preallocated rings, no numpy.

==================  ==========================================  ====================  =========
indicator           vectorised                                  incremental           NaN bars
==================  ==========================================  ====================  =========
SMA                 ``sma(close, period)``                      ``SMA(period)``       period-1
EMA                 ``ema(close, period)``                      ``EMA(period)``       period-1
MACD                ``macd(close, fast, slow, signal)``         ``MACD(...)``         slow-1 (line)
RSI (Wilder)        ``rsi(close, period)``                      ``RSI(period)``       period
ATR (Wilder)        ``atr(high, low, close, period)``           ``ATR(period)``       period
ADX, +DI, -DI       ``adx(high, low, close, period)``           ``ADX(period)``       2*period-1
Bollinger bands     ``bollinger(close, period, num_std)``       ``BollingerBands``    period-1
z-score             ``zscore(close, period)``                   ``ZScore(period)``    period-1
VWAP                ``vwap(high, low, close, volume)``          ``VWAP()``            0
rolling VWAP        ``rolling_vwap(high, low, close, volume,    ``RollingVWAP``       period-1
                    period)``
OBV                 ``obv(close, volume)``                      ``OBV()``             0
Choppiness          ``choppiness(high, low, close, period)``    ``Choppiness``        period
trend slope         ``trend_slope(close, period, log)``         ``TrendSlope``        period-1
==================  ==========================================  ====================  =========

MACD's signal and histogram are NaN for ``slow + signal - 2`` bars. Bad parameters raise
:class:`~engine.errors.ConfigError`; mismatched or non-numeric inputs raise
:class:`~engine.errors.DataError`.
"""

from __future__ import annotations

from papertape.engine.indicators.incremental.momentum import ADX, RSI
from papertape.engine.indicators.incremental.trend import EMA, MACD, SMA, TrendSlope
from papertape.engine.indicators.incremental.volatility import (
    ATR,
    BollingerBands,
    Choppiness,
    ZScore,
)
from papertape.engine.indicators.incremental.volume import OBV, VWAP, RollingVWAP
from papertape.engine.indicators.vectorised.momentum import ADXSeries, adx, rsi
from papertape.engine.indicators.vectorised.trend import MACDSeries, ema, macd, sma, trend_slope
from papertape.engine.indicators.vectorised.volatility import (
    BollingerSeries,
    atr,
    bollinger,
    choppiness,
    true_range,
    zscore,
)
from papertape.engine.indicators.vectorised.volume import obv, rolling_vwap, typical_price, vwap

__all__ = [
    "ADX",
    "ATR",
    "EMA",
    "MACD",
    "OBV",
    "RSI",
    "SMA",
    "VWAP",
    "ADXSeries",
    "BollingerBands",
    "BollingerSeries",
    "Choppiness",
    "MACDSeries",
    "RollingVWAP",
    "TrendSlope",
    "ZScore",
    "adx",
    "atr",
    "bollinger",
    "choppiness",
    "ema",
    "macd",
    "obv",
    "rolling_vwap",
    "rsi",
    "sma",
    "trend_slope",
    "true_range",
    "typical_price",
    "vwap",
    "zscore",
]
