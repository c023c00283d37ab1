"""Each incremental class agrees with its vectorised twin on real S&P 500 bars.

Same NaN positions (the warm-up) and the same values to floating-point tolerance; every
``update`` also returns exactly its ``value`` (checked by the ``drive`` fixture).
"""

from __future__ import annotations

import numpy as np
import pytest

from papertape.engine import indicators as ind

RTOL = 1e-10


def assert_twins(incremental: np.ndarray, vectorised: np.ndarray) -> None:
    np.testing.assert_array_equal(np.isnan(incremental), np.isnan(vectorised))
    scale = np.nanmax(np.abs(vectorised))
    np.testing.assert_allclose(incremental, vectorised, rtol=RTOL, atol=RTOL * scale)


@pytest.mark.parametrize("period", [1, 2, 20, 200])
def test_sma(sp500, drive, period):
    got = drive(ind.SMA(period), sp500.close)["value"]
    assert_twins(got, ind.sma(sp500.close, period))


@pytest.mark.parametrize("period", [1, 2, 20, 200])
def test_ema(sp500, drive, period):
    got = drive(ind.EMA(period), sp500.close)["value"]
    assert_twins(got, ind.ema(sp500.close, period))


@pytest.mark.parametrize("period", [1, 2, 14])
def test_rsi(sp500, drive, period):
    got = drive(ind.RSI(period), sp500.close)["value"]
    assert_twins(got, ind.rsi(sp500.close, period))


@pytest.mark.parametrize(("fast", "slow", "signal"), [(12, 26, 9), (1, 2, 1), (5, 35, 5)])
def test_macd(sp500, drive, fast, slow, signal):
    got = drive(ind.MACD(fast, slow, signal), sp500.close, attrs=("value", "signal", "hist"))
    expected = ind.macd(sp500.close, fast, slow, signal)
    assert_twins(got["value"], expected.line)
    assert_twins(got["signal"], expected.signal)
    assert_twins(got["hist"], expected.hist)


@pytest.mark.parametrize("period", [1, 14])
def test_atr(sp500, drive, period):
    got = drive(ind.ATR(period), sp500.high, sp500.low, sp500.close)["value"]
    assert_twins(got, ind.atr(sp500.high, sp500.low, sp500.close, period))


@pytest.mark.parametrize("period", [1, 2, 14])
def test_adx(sp500, drive, period):
    got = drive(
        ind.ADX(period), sp500.high, sp500.low, sp500.close, attrs=("value", "plus_di", "minus_di")
    )
    expected = ind.adx(sp500.high, sp500.low, sp500.close, period)
    assert_twins(got["value"], expected.adx)
    assert_twins(got["plus_di"], expected.plus_di)
    assert_twins(got["minus_di"], expected.minus_di)


@pytest.mark.parametrize(("period", "num_std"), [(1, 2.0), (2, 1.0), (20, 2.0), (60, 2.5)])
def test_bollinger(sp500, drive, period, num_std):
    got = drive(ind.BollingerBands(period, num_std), sp500.close, attrs=("value", "upper", "lower"))
    expected = ind.bollinger(sp500.close, period, num_std)
    assert_twins(got["value"], expected.mid)
    assert_twins(got["upper"], expected.upper)
    assert_twins(got["lower"], expected.lower)


@pytest.mark.parametrize("period", [1, 2, 20, 100])
def test_zscore(sp500, drive, period):
    got = drive(ind.ZScore(period), sp500.close)["value"]
    expected = ind.zscore(sp500.close, period)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    # z-scores cross zero: absolute tolerance in z units.
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)


def test_vwap_is_bit_identical(sp500, drive):
    got = drive(ind.VWAP(), sp500.high, sp500.low, sp500.close, sp500.volume)["value"]
    np.testing.assert_array_equal(got, ind.vwap(sp500.high, sp500.low, sp500.close, sp500.volume))


@pytest.mark.parametrize("period", [1, 14, 100])
def test_rolling_vwap(sp500, drive, period):
    columns = (sp500.high, sp500.low, sp500.close, sp500.volume)
    got = drive(ind.RollingVWAP(period), *columns)["value"]
    assert_twins(got, ind.rolling_vwap(*columns, period))


def test_obv_is_bit_identical(sp500, drive):
    got = drive(ind.OBV(), sp500.close, sp500.volume)["value"]
    np.testing.assert_array_equal(got, ind.obv(sp500.close, sp500.volume))


@pytest.mark.parametrize("period", [2, 14, 100])
def test_choppiness(sp500, drive, period):
    got = drive(ind.Choppiness(period), sp500.high, sp500.low, sp500.close)["value"]
    assert_twins(got, ind.choppiness(sp500.high, sp500.low, sp500.close, period))


@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("period", [2, 20, 250])
def test_trend_slope(sp500, drive, period, log):
    got = drive(ind.TrendSlope(period, log=log), sp500.close)["value"]
    expected = ind.trend_slope(sp500.close, period, log=log)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    # Slopes cross zero: tolerance relative to the typical slope.
    scale = np.nanmean(np.abs(expected))
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9 * scale)
