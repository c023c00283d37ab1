"""Vectorised indicators against third-party libraries on real S&P 500 bars.

References: TA-Lib (the ``ta-lib`` wheel, which bundles the C library) and the pure-pandas
``ta`` package, both test-only dependencies. Where a library's definition differs from ours
the test says how, and compares only after the difference has decayed:

* MACD: TA-Lib seeds the fast EMA at the slow EMA's first bar, we at bar ``fast - 1``; it also
  blanks the line until the signal exists. Equal after ~200 bars.
* ADX/DI: TA-Lib seeds Wilder's sums with ``period - 1`` values plus one smoothing step, we
  with ``period`` values (Wilder's book). Equal after ~500 bars.
* RSI of a window without any change: TA-Lib 0, we 50 (no such window in this data).
* OBV: ``ta`` adds the volume on an unchanged close; TA-Lib and we leave OBV unchanged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import ta
import talib

from papertape.engine import indicators as ind


def assert_same(actual: np.ndarray, expected: np.ndarray, rtol: float = 1e-10) -> None:
    scale = np.nanmax(np.abs(expected))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale)


@pytest.mark.parametrize("period", [1, 5, 20, 200])
def test_sma_ema_match_talib_everywhere(sp500, period):
    assert_same(ind.sma(sp500.close, period), talib.SMA(sp500.close, period), rtol=1e-12)
    assert_same(ind.ema(sp500.close, period), talib.EMA(sp500.close, period), rtol=1e-12)


@pytest.mark.parametrize("period", [2, 14, 50])
def test_rsi_matches_talib_everywhere(sp500, period):
    assert_same(ind.rsi(sp500.close, period), talib.RSI(sp500.close, period), rtol=1e-12)


@pytest.mark.parametrize("period", [1, 14, 30])
def test_atr_and_true_range_match_talib_everywhere(sp500, period):
    high, low, close = sp500.high, sp500.low, sp500.close
    assert_same(ind.true_range(high, low, close), talib.TRANGE(high, low, close), rtol=0.0)
    assert_same(ind.atr(high, low, close, period), talib.ATR(high, low, close, period), 1e-12)


@pytest.mark.parametrize(("period", "num_std"), [(20, 2.0), (10, 1.5), (100, 3.0)])
def test_bollinger_matches_talib_population_std(sp500, period, num_std):
    upper, mid, lower = talib.BBANDS(sp500.close, period, num_std, num_std, 0)
    result = ind.bollinger(sp500.close, period, num_std)
    assert_same(result.mid, mid, rtol=1e-12)
    assert_same(result.upper, upper)
    assert_same(result.lower, lower)


def test_bollinger_matches_ta_package(sp500):
    bands = ta.volatility.BollingerBands(pd.Series(sp500.close), window=20, window_dev=2)
    result = ind.bollinger(sp500.close, 20, 2.0)
    assert_same(result.upper, bands.bollinger_hband().to_numpy())
    assert_same(result.lower, bands.bollinger_lband().to_numpy())


def test_obv_matches_talib_exactly(sp500):
    np.testing.assert_array_equal(
        ind.obv(sp500.close, sp500.volume), talib.OBV(sp500.close, sp500.volume)
    )


@pytest.mark.parametrize("period", [2, 20, 90])
def test_trend_slope_matches_talib_linearreg_slope(sp500, period):
    expected = talib.LINEARREG_SLOPE(sp500.close, period)
    assert_same(ind.trend_slope(sp500.close, period), expected, rtol=1e-9)
    log_expected = talib.LINEARREG_SLOPE(np.log(sp500.close), period)
    assert_same(ind.trend_slope(sp500.close, period, log=True), log_expected, rtol=1e-9)


def test_macd_matches_talib_after_seed_decay(sp500):
    line, signal, hist = talib.MACD(sp500.close, 12, 26, 9)
    result = ind.macd(sp500.close, 12, 26, 9)
    # Same warm-up for signal and histogram; TA-Lib also blanks the line until then.
    np.testing.assert_array_equal(np.isnan(result.signal), np.isnan(signal))
    np.testing.assert_array_equal(np.isnan(result.hist), np.isnan(hist))
    assert np.isnan(result.line).sum() == 25
    settled = slice(200, None)
    for ours, theirs in zip(result, (line, signal, hist), strict=True):
        assert_same(ours[settled], theirs[settled], rtol=1e-9)
    # Before that the seeds really differ: the comparison above is not vacuous.
    assert abs(result.line[40] - line[40]) > 1e-3


def test_adx_matches_talib_after_seed_decay(sp500):
    high, low, close = sp500.high, sp500.low, sp500.close
    result = ind.adx(high, low, close, 14)
    expected = (
        talib.ADX(high, low, close, 14),
        talib.PLUS_DI(high, low, close, 14),
        talib.MINUS_DI(high, low, close, 14),
    )
    for ours, theirs in zip(result, expected, strict=True):
        np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
        assert_same(ours[500:], theirs[500:], rtol=1e-9)
    assert abs(result.adx[40] - expected[0][40]) > 1e-3


@pytest.mark.parametrize("period", [1, 14, 50])
def test_rolling_vwap_matches_ta_package(sp500, period):
    frame = {name: pd.Series(getattr(sp500, name)) for name in ("high", "low", "close", "volume")}
    expected = ta.volume.VolumeWeightedAveragePrice(**frame, window=period)
    got = ind.rolling_vwap(sp500.high, sp500.low, sp500.close, sp500.volume, period)
    assert_same(got, expected.volume_weighted_average_price().to_numpy(), rtol=1e-12)
