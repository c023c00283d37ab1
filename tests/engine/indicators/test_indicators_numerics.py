"""Numerical robustness: no drift over a million updates, exact flat windows, and accuracy of
the O(n) vectorised kernels where a naive formula is known to fail."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from papertape.engine import indicators as ind
from papertape.engine.indicators._rolling import rolling_mean_var

MILLION = 1_000_000
CHECKPOINTS = range(MILLION // 10 - 1, MILLION, MILLION // 10)


@pytest.fixture(scope="module")
def crash() -> list[float]:
    """A million prices falling from 1e8 to ~1 with 1% noise: running sums keep the
    rounding errors of the large early values, which is what makes drift show."""
    rng = np.random.default_rng(7)
    log_prices = np.linspace(math.log(1e8), 0.0, MILLION) + rng.normal(0.0, 0.01, MILLION)
    return np.exp(log_prices).tolist()


def assert_tracks(
    values: list[float], period: int, update: Callable[[float], float], exact: Callable[..., float]
) -> None:
    checkpoints = set(CHECKPOINTS)
    for k, x in enumerate(values):
        got = update(x)
        if k in checkpoints:
            want = exact(values[k - period + 1 : k + 1])
            assert abs(got - want) <= 1e-9 * abs(want), (k, got, want)


@pytest.mark.slow
def test_naive_running_sum_would_drift_on_this_data(crash):
    # Guards the tests below against being vacuous: without the periodic exact re-sum the
    # same data drifts by ~1e-6 relative.
    ring, total = [0.0] * 20, 0.0
    for k, x in enumerate(crash):
        total += x - ring[k % 20]
        ring[k % 20] = x
    assert abs(total - math.fsum(ring)) > 1e-9 * math.fsum(ring)


@pytest.mark.slow
def test_sma_does_not_drift_over_a_million_updates(crash):
    sma = ind.SMA(20)
    assert_tracks(crash, 20, sma.update, lambda w: math.fsum(w) / len(w))


@pytest.mark.slow
def test_bollinger_std_does_not_drift_over_a_million_updates(crash):
    bands = ind.BollingerBands(30, 1.0)

    def width(x: float) -> float:
        bands.update(x)
        return bands.std

    assert_tracks(crash, 30, width, statistics.pstdev)


@pytest.mark.slow
def test_trend_slope_does_not_drift_over_a_million_updates(crash):
    slope = ind.TrendSlope(25)
    steps = list(range(25))
    assert_tracks(crash, 25, slope.update, lambda w: statistics.linear_regression(steps, w).slope)


@pytest.mark.slow
def test_rolling_vwap_does_not_drift_over_a_million_updates(crash):
    rng = np.random.default_rng(11)
    volumes = rng.integers(1, 10**9, MILLION).astype(float).tolist()
    vwap = ind.RollingVWAP(15)
    checkpoints = set(CHECKPOINTS)
    for k, (price, volume) in enumerate(zip(crash, volumes, strict=True)):
        got = vwap.update(price, price, price, volume)
        if k in checkpoints:
            window = range(k - 14, k + 1)
            num = math.fsum(crash[j] * volumes[j] for j in window)
            want = num / math.fsum(volumes[j] for j in window)
            assert abs(got - want) <= 1e-9 * want


@pytest.mark.slow
def test_vectorised_windows_do_not_drift_over_a_million_bars(crash):
    closes = np.array(crash)
    sma = ind.sma(closes, 20)
    mid, upper, _ = ind.bollinger(closes, 30, 1.0)
    slope = ind.trend_slope(closes, 25)
    steps = list(range(25))
    for k in CHECKPOINTS:
        assert sma[k] == pytest.approx(math.fsum(crash[k - 19 : k + 1]) / 20, rel=1e-12)
        std = statistics.pstdev(crash[k - 29 : k + 1])
        assert upper[k] - mid[k] == pytest.approx(std, rel=1e-9)
        fit = statistics.linear_regression(steps, crash[k - 24 : k + 1]).slope
        assert slope[k] == pytest.approx(fit, rel=1e-9)


def test_vectorised_variance_is_exact_at_a_high_price_level():
    # Tiny noise on a huge level: E[x^2] - E[x]^2 over a global cumsum loses every digit.
    # (The bands themselves cannot show it: mid + 1e-3 at 1e6 keeps only 7 digits of the band.)
    rng = np.random.default_rng(5)
    closes = 1e6 + rng.normal(0.0, 1e-3, 20_000)
    for period in (2, 20, 200):
        expected = sliding_window_view(closes, period).var(axis=1)
        _, var = rolling_mean_var(closes, period)
        np.testing.assert_allclose(var[period - 1 :], expected, rtol=1e-9)
    naive = np.cumsum(closes**2)[19:] - np.r_[0.0, np.cumsum(closes**2)[:-20]]
    naive_var = naive / 20 - (ind.sma(closes, 20)[19:]) ** 2
    assert np.max(np.abs(naive_var - sliding_window_view(closes, 20).var(axis=1))) > 1e-3


def test_incremental_variance_is_exact_at_a_high_price_level():
    rng = np.random.default_rng(6)
    closes = (1e6 + rng.normal(0.0, 1e-3, 5_000)).tolist()
    bands = ind.BollingerBands(20, 1.0)
    widths = []
    for x in closes:
        bands.update(x)
        widths.append(bands.std)
    expected = sliding_window_view(np.array(closes), 20).std(axis=1)
    np.testing.assert_allclose(widths[19:], expected, rtol=1e-9)


@pytest.mark.parametrize("period", [1, 2, 9, 1000])
def test_blocked_ema_equals_the_plain_recursion(period):
    # Zero-mean data (like a MACD line) and a long history: the blocked numpy formulation of
    # the recursion must match a loop over Python floats.
    rng = np.random.default_rng(period)
    values = np.cumsum(rng.normal(0.0, 1.0, 200_000))
    alpha = 2.0 / (period + 1)
    expected = [math.nan] * (period - 1)
    level = math.fsum(values[:period].tolist()) / period
    expected.append(level)
    for x in values[period:].tolist():
        level += alpha * (x - level)
        expected.append(level)
    scale = float(np.max(np.abs(values)))
    np.testing.assert_allclose(ind.ema(values, period), expected, rtol=1e-12, atol=1e-12 * scale)


def test_flat_windows_are_exactly_flat_in_both_forms():
    closes = [100.1] * 12 + [100.2] * 12 + [0.3] * 12
    period = 10
    mid, upper, lower = ind.bollinger(closes, period)
    z = ind.zscore(closes, period)
    bands, zscore = ind.BollingerBands(period), ind.ZScore(period)
    for k, x in enumerate(closes):
        bands.update(x)
        zscore.update(x)
        flat = k >= period - 1 and len(set(closes[k - period + 1 : k + 1])) == 1
        if flat:
            assert mid[k] == upper[k] == lower[k] == x
            assert bands.value == bands.upper == bands.lower == x
            assert z[k] == 0.0
            assert zscore.value == 0.0
        elif k >= period - 1:
            assert upper[k] > mid[k] > lower[k]
            assert bands.upper > bands.value > bands.lower
