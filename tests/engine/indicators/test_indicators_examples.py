"""Hand-computed small examples, warm-up lengths, edge cases and parameter validation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from papertape.engine import indicators as ind
from papertape.engine.errors import ConfigError, DataError

NAN = math.nan


def both_forms_of_sma(values: list[float], period: int) -> tuple[np.ndarray, list[float]]:
    sma = ind.SMA(period)
    return ind.sma(values, period), [sma.update(x) for x in values]


# --- hand-computed examples -------------------------------------------------------------------


def test_sma_of_one_to_four_period_two():
    vectorised, incremental = both_forms_of_sma([1.0, 2.0, 3.0, 4.0], 2)
    np.testing.assert_array_equal(vectorised, [NAN, 1.5, 2.5, 3.5])
    np.testing.assert_array_equal(incremental, [NAN, 1.5, 2.5, 3.5])


def test_ema_seeds_with_the_mean_then_halves_the_gap():
    # period 3: alpha = 0.5, seed = mean(1, 2, 3) = 2, then 2 + (4 - 2) / 2 = 3, 3 + (5 - 3) / 2.
    expected = [NAN, NAN, 2.0, 3.0, 4.0]
    np.testing.assert_array_equal(ind.ema([1, 2, 3, 4, 5], 3), expected)
    ema = ind.EMA(3)
    np.testing.assert_array_equal([ema.update(x) for x in [1, 2, 3, 4, 5]], expected)


def test_rsi_hand_example():
    # changes +1, -1, +1, +1; period 2: avg gain/loss 0.5/0.5 -> 50, then Wilder halves:
    # 0.75/0.25 -> 75, 0.875/0.125 -> 87.5
    closes = [1.0, 2.0, 1.0, 2.0, 3.0]
    np.testing.assert_allclose(ind.rsi(closes, 2), [NAN, NAN, 50.0, 75.0, 87.5])
    rsi = ind.RSI(2)
    np.testing.assert_allclose([rsi.update(x) for x in closes], [NAN, NAN, 50.0, 75.0, 87.5])


@pytest.mark.parametrize(("closes", "level"), [(range(1, 40), 100.0), (range(40, 1, -1), 0.0)])
def test_rsi_of_a_monotonic_series_is_pinned(closes, level):
    values = [float(x) for x in closes]
    out = ind.rsi(values, 14)
    assert np.isnan(out[:14]).all()
    np.testing.assert_array_equal(out[14:], level)
    rsi = ind.RSI(14)
    assert [rsi.update(x) for x in values][14:] == [level] * (len(values) - 14)


def test_rsi_of_a_flat_series_is_neutral():
    np.testing.assert_array_equal(ind.rsi([5.0] * 20, 14)[14:], 50.0)
    rsi = ind.RSI(14)
    assert [rsi.update(5.0) for _ in range(20)][14:] == [50.0] * 6


def test_macd_hand_example():
    # fast=1 is the close itself; slow=2: seed 1.5 at bar 1, then 1.5 + 2/3 * (4 - 1.5).
    result = ind.macd([1.0, 2.0, 4.0], fast=1, slow=2, signal=2)
    slow_ema = 1.5 + 2.0 / 3.0 * 2.5
    np.testing.assert_allclose(result.line, [NAN, 0.5, 4.0 - slow_ema])
    np.testing.assert_allclose(result.signal, [NAN, NAN, (0.5 + 4.0 - slow_ema) / 2])
    np.testing.assert_allclose(result.hist, [NAN, NAN, (4.0 - slow_ema - 0.5) / 2])


def test_atr_hand_example():
    high, low, close = [10, 11, 12, 11], [8, 9, 9, 10], [9, 10, 11, 10.5]
    # TR: -, 2, 3, 1 -> ATR(2): seed (2 + 3) / 2 = 2.5, then 2.5 + (1 - 2.5) / 2 = 1.75
    np.testing.assert_array_equal(ind.true_range(high, low, close), [NAN, 2.0, 3.0, 1.0])
    np.testing.assert_array_equal(ind.atr(high, low, close, 2), [NAN, NAN, 2.5, 1.75])
    atr = ind.ATR(2)
    got = [atr.update(h, lo, c) for h, lo, c in zip(high, low, close, strict=True)]
    np.testing.assert_array_equal(got, [NAN, NAN, 2.5, 1.75])


def test_adx_of_a_staircase_up_is_100():
    high = [float(10 + k) for k in range(30)]
    low = [h - 2.0 for h in high]
    close = [h - 1.0 for h in high]
    result = ind.adx(high, low, close, 5)
    np.testing.assert_allclose(result.adx[9:], 100.0)
    np.testing.assert_array_equal(result.minus_di[5:], 0.0)
    # +DM is 1 and TR is 2 every bar: +DI = 100 * 1 / 2.
    np.testing.assert_allclose(result.plus_di[5:], 50.0)


def test_bollinger_uses_the_population_standard_deviation():
    result = ind.bollinger([1.0, 2.0, 3.0, 4.0], 2, 1.0)
    # Population std of two values one apart is 0.5 (the sample std would be 0.707...).
    np.testing.assert_array_equal(result.upper, [NAN, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(result.lower, [NAN, 1.0, 2.0, 3.0])
    bands = ind.BollingerBands(2, 1.0)
    for x, up in zip([1.0, 2.0, 3.0, 4.0], [NAN, 2.0, 3.0, 4.0], strict=True):
        bands.update(x)
        assert bands.upper == up or (math.isnan(up) and math.isnan(bands.upper))


def test_zscore_hand_example_and_flat_window():
    np.testing.assert_array_equal(ind.zscore([1.0, 2.0, 3.0, 2.0], 2), [NAN, 1.0, 1.0, -1.0])
    np.testing.assert_array_equal(ind.zscore([7.0, 7.0, 7.0], 2), [NAN, 0.0, 0.0])


def test_vwap_hand_example():
    high, low, close, volume = [3, 6], [1, 3], [2, 3], [100, 300]
    # typical prices 2 and 4 -> (200 + 1200) / 400
    np.testing.assert_array_equal(ind.vwap(high, low, close, volume), [2.0, 3.5])
    np.testing.assert_array_equal(ind.rolling_vwap(high, low, close, volume, 1), [2.0, 4.0])
    vwap = ind.VWAP()
    assert [vwap.update(*bar) for bar in zip(high, low, close, volume, strict=True)] == [2.0, 3.5]


def test_vwap_without_volume_is_nan():
    assert np.isnan(ind.vwap([2.0, 2.0], [1.0, 1.0], [1.5, 1.5], [0.0, 0.0])).all()
    rolling = ind.RollingVWAP(2)
    assert math.isnan(rolling.update(2.0, 1.0, 1.5, 0.0))
    assert math.isnan(rolling.update(2.0, 1.0, 1.5, 0.0))


def test_obv_hand_example():
    closes, volumes = [10, 11, 11, 10, 12], [5, 6, 7, 8, 9]
    np.testing.assert_array_equal(ind.obv(closes, volumes), [5, 11, 11, 3, 12])
    obv = ind.OBV()
    assert [obv.update(c, v) for c, v in zip(closes, volumes, strict=True)] == [5, 11, 11, 3, 12]


def test_choppiness_hand_example():
    high, low, close = [10.0, 11.0, 10.5], [9.0, 9.0, 9.5], [9.5, 10.0, 10.0]
    # TR 2 and 1 over a high-low span of 11 - 9 = 2: 100 * log10(3 / 2) / log10(2)
    expected = 100 * math.log10(1.5) / math.log10(2)
    np.testing.assert_allclose(ind.choppiness(high, low, close, 2), [NAN, NAN, expected])
    chop = ind.Choppiness(2)
    got = [chop.update(h, lo, c) for h, lo, c in zip(high, low, close, strict=True)]
    np.testing.assert_allclose(got, [NAN, NAN, expected])


def test_choppiness_of_a_flat_window_is_nan():
    assert np.isnan(ind.choppiness([5.0] * 6, [5.0] * 6, [5.0] * 6, 3)).all()


def test_trend_slope_hand_examples():
    np.testing.assert_allclose(ind.trend_slope([1.0, 3.0, 5.0, 7.0], 3), [NAN, NAN, 2.0, 2.0])
    doubling = [1.0, 2.0, 4.0, 8.0, 16.0]
    np.testing.assert_allclose(ind.trend_slope(doubling, 4, log=True)[3:], math.log(2))
    slope = ind.TrendSlope(4, log=True)
    assert [slope.update(x) for x in doubling][3:] == pytest.approx([math.log(2)] * 2)


# --- warm-up lengths --------------------------------------------------------------------------

WARM_UP = [
    ("sma", lambda b: ind.sma(b.close, 20), 19),
    ("ema", lambda b: ind.ema(b.close, 20), 19),
    ("rsi", lambda b: ind.rsi(b.close, 14), 14),
    ("macd.line", lambda b: ind.macd(b.close, 12, 26, 9).line, 25),
    ("macd.signal", lambda b: ind.macd(b.close, 12, 26, 9).signal, 33),
    ("macd.hist", lambda b: ind.macd(b.close, 12, 26, 9).hist, 33),
    ("atr", lambda b: ind.atr(b.high, b.low, b.close, 14), 14),
    ("adx", lambda b: ind.adx(b.high, b.low, b.close, 14).adx, 27),
    ("plus_di", lambda b: ind.adx(b.high, b.low, b.close, 14).plus_di, 14),
    ("minus_di", lambda b: ind.adx(b.high, b.low, b.close, 14).minus_di, 14),
    ("bollinger", lambda b: ind.bollinger(b.close, 20).lower, 19),
    ("zscore", lambda b: ind.zscore(b.close, 20), 19),
    ("vwap", lambda b: ind.vwap(b.high, b.low, b.close, b.volume), 0),
    ("rolling_vwap", lambda b: ind.rolling_vwap(b.high, b.low, b.close, b.volume, 20), 19),
    ("obv", lambda b: ind.obv(b.close, b.volume), 0),
    ("choppiness", lambda b: ind.choppiness(b.high, b.low, b.close, 14), 14),
    ("trend_slope", lambda b: ind.trend_slope(b.close, 20), 19),
]


@pytest.mark.parametrize(("name", "compute", "nans"), WARM_UP, ids=[w[0] for w in WARM_UP])
def test_warm_up_is_a_nan_prefix_of_documented_length(sp500, name, compute, nans):
    out = compute(sp500)
    assert out.shape == sp500.close.shape
    assert out.dtype == np.float64
    assert np.isnan(out[:nans]).all()
    assert not np.isnan(out[nans:]).any()


@pytest.mark.parametrize(
    "compute",
    [
        lambda x: ind.sma(x, 5),
        lambda x: ind.ema(x, 5),
        lambda x: ind.rsi(x, 5),
        lambda x: ind.macd(x, 2, 5, 3).hist,
        lambda x: ind.atr(x, x, x, 5),
        lambda x: ind.adx(x, x, x, 5).adx,
        lambda x: ind.bollinger(x, 5).mid,
        lambda x: ind.zscore(x, 5),
        lambda x: ind.rolling_vwap(x, x, x, x, 5),
        lambda x: ind.choppiness(x, x, x, 5),
        lambda x: ind.trend_slope(x, 5),
    ],
)
@pytest.mark.parametrize("length", [0, 1, 4])
def test_history_shorter_than_the_warm_up_is_all_nan(compute, length):
    out = compute(np.arange(1.0, length + 1.0))
    assert out.shape == (length,)
    assert np.isnan(out).all()


def test_plain_lists_are_accepted_and_inputs_are_not_modified(sp500):
    closes = sp500.close[:50].tolist()
    np.testing.assert_array_equal(ind.sma(closes, 5), ind.sma(sp500.close[:50], 5))
    # sp500 columns are read-only: any in-place write inside the library would have raised.
    ind.bollinger(sp500.close, 20)
    ind.adx(sp500.high, sp500.low, sp500.close)


# --- validation -------------------------------------------------------------------------------

FACTORIES = [
    ("sma.period", lambda p: ind.sma([1.0], p), lambda p: ind.SMA(p)),
    ("ema.period", lambda p: ind.ema([1.0], p), lambda p: ind.EMA(p)),
    ("rsi.period", lambda p: ind.rsi([1.0], p), lambda p: ind.RSI(p)),
    ("atr.period", lambda p: ind.atr([1.0], [1.0], [1.0], p), lambda p: ind.ATR(p)),
    ("adx.period", lambda p: ind.adx([1.0], [1.0], [1.0], p), lambda p: ind.ADX(p)),
    ("bollinger.period", lambda p: ind.bollinger([1.0], p), lambda p: ind.BollingerBands(p)),
    ("zscore.period", lambda p: ind.zscore([1.0], p), lambda p: ind.ZScore(p)),
    (
        "rolling_vwap.period",
        lambda p: ind.rolling_vwap([1.0], [1.0], [1.0], [1.0], p),
        lambda p: ind.RollingVWAP(p),
    ),
    ("macd.signal", lambda p: ind.macd([1.0], 12, 26, p), lambda p: ind.MACD(12, 26, p)),
]


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "14", None])
@pytest.mark.parametrize(
    ("key", "vectorised", "incremental"), FACTORIES, ids=[f[0] for f in FACTORIES]
)
def test_bad_periods_raise_config_error_naming_the_key(key, vectorised, incremental, bad):
    for make in (vectorised, incremental):
        with pytest.raises(ConfigError) as caught:
            make(bad)
        assert caught.value.key == key
        assert caught.value.value is bad


@pytest.mark.parametrize(
    ("key", "make"),
    [
        ("choppiness.period", lambda: ind.choppiness([1.0], [1.0], [1.0], 1)),
        ("choppiness.period", lambda: ind.Choppiness(1)),
        ("trend_slope.period", lambda: ind.trend_slope([1.0], 1)),
        ("trend_slope.period", lambda: ind.TrendSlope(1)),
        ("macd.slow", lambda: ind.macd([1.0], 26, 26, 9)),
        ("macd.slow", lambda: ind.MACD(26, 12, 9)),
        ("bollinger.num_std", lambda: ind.bollinger([1.0], 20, 0.0)),
        ("bollinger.num_std", lambda: ind.BollingerBands(20, -1.0)),
        ("bollinger.num_std", lambda: ind.BollingerBands(20, math.nan)),
        ("bollinger.num_std", lambda: ind.bollinger([1.0], 20, math.inf)),
    ],
)
def test_other_bad_parameters_raise_config_error(key, make):
    with pytest.raises(ConfigError) as caught:
        make()
    assert caught.value.key == key


def test_numpy_integers_are_accepted_as_periods():
    np.testing.assert_array_equal(ind.sma([1.0, 3.0], np.int64(2)), [NAN, 2.0])
    assert ind.SMA(np.int32(3)).period == 3


@pytest.mark.parametrize(
    "make",
    [
        lambda: ind.atr([1.0, 2.0], [1.0], [1.0, 2.0]),
        lambda: ind.vwap([1.0], [1.0], [1.0], [1.0, 2.0]),
        lambda: ind.obv([1.0, 2.0, 3.0], [1.0]),
        lambda: ind.sma(np.ones((3, 2)), 2),
        lambda: ind.sma(["a", "b"], 1),
        lambda: ind.trend_slope([1.0, -1.0, 2.0], 2, log=True),
    ],
)
def test_unusable_input_raises_data_error(make):
    with pytest.raises(DataError):
        make()


def test_incremental_log_slope_refuses_non_positive_prices():
    slope = ind.TrendSlope(3, log=True)
    slope.update(1.0)
    with pytest.raises(DataError):
        slope.update(0.0)
