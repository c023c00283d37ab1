"""Vectorised indicators against small, textbook, pure-Python references on real S&P 500 bars.

The references follow the published definitions literally (Wilder's running *sums* for ADX,
``100 - 100 / (1 + RS)`` for RSI, ``statistics.pstdev`` for Bollinger, ``statistics
.linear_regression`` for the slope) so that they share no code and little algebra with the
library. They agree to rounding, warm-up NaNs included.
"""

from __future__ import annotations

import itertools
import math
import statistics

import numpy as np
import pytest

from papertape.engine import indicators as ind

NAN = math.nan


def assert_same(actual: np.ndarray, expected: list[float], rtol: float = 1e-9) -> None:
    expected_array = np.array(expected)
    scale = np.nanmax(np.abs(expected_array))
    np.testing.assert_allclose(actual, expected_array, rtol=rtol, atol=rtol * scale)


def wilder(values: list[float], n: int) -> list[float]:
    """Wilder's smoothing as printed: mean of the first n, then (prev * (n - 1) + x) / n."""
    out = [NAN] * len(values)
    if len(values) < n:
        return out
    prev = sum(values[:n]) / n
    out[n - 1] = prev
    for k in range(n, len(values)):
        prev = (prev * (n - 1) + values[k]) / n
        out[k] = prev
    return out


def ref_sma(xs: list[float], n: int) -> list[float]:
    return [NAN] * (n - 1) + [math.fsum(xs[i - n + 1 : i + 1]) / n for i in range(n - 1, len(xs))]


def ref_ema(xs: list[float], n: int) -> list[float]:
    k = 2 / (n + 1)
    out = [NAN] * len(xs)
    prev = sum(xs[:n]) / n
    out[n - 1] = prev
    for i in range(n, len(xs)):
        prev = xs[i] * k + prev * (1 - k)
        out[i] = prev
    return out


def ref_rsi(xs: list[float], n: int) -> list[float]:
    gains = [max(b - a, 0.0) for a, b in itertools.pairwise(xs)]
    losses = [max(a - b, 0.0) for a, b in itertools.pairwise(xs)]
    out = [NAN]
    for g, lo in zip(wilder(gains, n), wilder(losses, n), strict=True):
        if math.isnan(g):
            out.append(NAN)
        elif lo == 0.0:
            out.append(100.0 if g > 0 else 50.0)
        else:
            out.append(100 - 100 / (1 + g / lo))
    return out


def true_ranges(h: list[float], lo: list[float], c: list[float]) -> list[float]:
    return [
        max(h[i] - lo[i], abs(h[i] - c[i - 1]), abs(lo[i] - c[i - 1])) for i in range(1, len(c))
    ]


def ref_adx(
    h: list[float], lo: list[float], c: list[float], n: int
) -> tuple[list[float], list[float], list[float]]:
    """Wilder (1978): running sums TR14 = TR14 - TR14/14 + TR, DI, DX, ADX."""
    tr = true_ranges(h, lo, c)
    pdm, mdm = [], []
    for i in range(1, len(h)):
        up, down = h[i] - h[i - 1], lo[i - 1] - lo[i]
        pdm.append(up if up > down and up > 0 else 0.0)
        mdm.append(down if down > up and down > 0 else 0.0)
    pdi, mdi, dx = [NAN] * len(h), [NAN] * len(h), [NAN] * len(h)
    s_tr, s_p, s_m = sum(tr[:n]), sum(pdm[:n]), sum(mdm[:n])
    for i in range(n, len(h)):
        if i > n:
            s_tr = s_tr - s_tr / n + tr[i - 1]
            s_p = s_p - s_p / n + pdm[i - 1]
            s_m = s_m - s_m / n + mdm[i - 1]
        pdi[i], mdi[i] = 100 * s_p / s_tr, 100 * s_m / s_tr
        dx[i] = 100 * abs(pdi[i] - mdi[i]) / (pdi[i] + mdi[i])
    adx = [NAN] * n + wilder(dx[n:], n)
    return adx, pdi, mdi


def ref_chop(h: list[float], lo: list[float], c: list[float], n: int) -> list[float]:
    tr = [NAN, *true_ranges(h, lo, c)]
    out = [NAN] * len(c)
    for i in range(n, len(c)):
        span = max(h[i - n + 1 : i + 1]) - min(lo[i - n + 1 : i + 1])
        out[i] = 100 * math.log10(sum(tr[i - n + 1 : i + 1]) / span) / math.log10(n)
    return out


@pytest.fixture(scope="module")
def cols(sp500):
    return {name: getattr(sp500, name).tolist() for name in ("high", "low", "close", "volume")}


@pytest.mark.parametrize("period", [1, 2, 20, 200])
def test_sma_and_ema_match_textbook(sp500, cols, period):
    assert_same(ind.sma(sp500.close, period), ref_sma(cols["close"], period), rtol=1e-12)
    assert_same(ind.ema(sp500.close, period), ref_ema(cols["close"], period), rtol=1e-12)


@pytest.mark.parametrize("period", [2, 14, 30])
def test_rsi_matches_textbook(sp500, cols, period):
    assert_same(ind.rsi(sp500.close, period), ref_rsi(cols["close"], period), rtol=1e-11)


def test_macd_matches_textbook(sp500, cols):
    fast, slow = ref_ema(cols["close"], 12), ref_ema(cols["close"], 26)
    line = [f - s for f, s in zip(fast, slow, strict=True)]
    signal = [NAN] * 25 + ref_ema(line[25:], 9)
    result = ind.macd(sp500.close, 12, 26, 9)
    assert_same(result.line, line)
    assert_same(result.signal, signal)
    assert_same(result.hist, [a - b for a, b in zip(line, signal, strict=True)])


@pytest.mark.parametrize("period", [1, 14])
def test_atr_matches_textbook(sp500, cols, period):
    expected = [NAN, *wilder(true_ranges(cols["high"], cols["low"], cols["close"]), period)]
    assert_same(ind.atr(sp500.high, sp500.low, sp500.close, period), expected, rtol=1e-11)


@pytest.mark.parametrize("period", [5, 14])
def test_adx_matches_wilders_running_sums(sp500, cols, period):
    adx, pdi, mdi = ref_adx(cols["high"], cols["low"], cols["close"], period)
    result = ind.adx(sp500.high, sp500.low, sp500.close, period)
    assert_same(result.adx, adx)
    assert_same(result.plus_di, pdi)
    assert_same(result.minus_di, mdi)


@pytest.mark.parametrize(("period", "num_std"), [(20, 2.0), (50, 2.5), (2, 1.0)])
def test_bollinger_uses_population_std(sp500, cols, period, num_std):
    xs = cols["close"]
    mids = [NAN] * (period - 1)
    stds = [NAN] * (period - 1)
    for i in range(period - 1, len(xs)):
        window = xs[i - period + 1 : i + 1]
        mids.append(statistics.fmean(window))
        stds.append(statistics.pstdev(window))
    result = ind.bollinger(sp500.close, period, num_std)
    assert_same(result.mid, mids, rtol=1e-12)
    assert_same(result.upper, [m + num_std * s for m, s in zip(mids, stds, strict=True)])
    assert_same(result.lower, [m - num_std * s for m, s in zip(mids, stds, strict=True)])


@pytest.mark.parametrize("period", [2, 20, 100])
def test_zscore_matches_textbook(sp500, cols, period):
    xs = cols["close"]
    expected = [NAN] * (period - 1)
    for i in range(period - 1, len(xs)):
        window = xs[i - period + 1 : i + 1]
        std = statistics.pstdev(window)
        # A flat window (the index did close unchanged on some days) has z-score 0 by definition.
        expected.append((xs[i] - statistics.fmean(window)) / std if std else 0.0)
    # z-scores pass through zero, so compare with an absolute tolerance in z units.
    np.testing.assert_allclose(ind.zscore(sp500.close, period), expected, rtol=1e-8, atol=1e-8)


def test_vwaps_match_textbook(sp500, cols):
    tp = [
        (h + lo + c) / 3 for h, lo, c in zip(cols["high"], cols["low"], cols["close"], strict=True)
    ]
    pv = [p * v for p, v in zip(tp, cols["volume"], strict=True)]
    cumulative = []
    num = den = 0.0
    for a, b in zip(pv, cols["volume"], strict=True):
        num, den = num + a, den + b
        cumulative.append(num / den)
    assert_same(ind.vwap(sp500.high, sp500.low, sp500.close, sp500.volume), cumulative, 1e-12)
    n = 30
    rolling = [NAN] * (n - 1) + [
        math.fsum(pv[i - n + 1 : i + 1]) / math.fsum(cols["volume"][i - n + 1 : i + 1])
        for i in range(n - 1, len(pv))
    ]
    got = ind.rolling_vwap(sp500.high, sp500.low, sp500.close, sp500.volume, n)
    assert_same(got, rolling, rtol=1e-12)


def test_obv_matches_textbook(sp500, cols):
    closes, volumes = cols["close"], cols["volume"]
    expected = [volumes[0]]
    for i in range(1, len(closes)):
        step = volumes[i] if closes[i] > closes[i - 1] else -volumes[i]
        expected.append(expected[-1] + (0.0 if closes[i] == closes[i - 1] else step))
    np.testing.assert_array_equal(ind.obv(sp500.close, sp500.volume), expected)


@pytest.mark.parametrize("period", [2, 14, 50])
def test_choppiness_matches_textbook(sp500, cols, period):
    expected = ref_chop(cols["high"], cols["low"], cols["close"], period)
    got = ind.choppiness(sp500.high, sp500.low, sp500.close, period)
    assert_same(got, expected, rtol=1e-11)


@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("period", [2, 20, 120])
def test_trend_slope_matches_least_squares(sp500, cols, period, log):
    ys = [math.log(x) for x in cols["close"]] if log else cols["close"]
    steps = list(range(period))
    expected = [NAN] * (period - 1) + [
        statistics.linear_regression(steps, ys[i - period + 1 : i + 1]).slope
        for i in range(period - 1, len(ys))
    ]
    # Slopes cross zero: the tolerance is relative to the typical slope size.
    assert_same(ind.trend_slope(sp500.close, period, log=log), expected, rtol=1e-9)
