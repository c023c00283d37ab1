from __future__ import annotations

import csv
import json
import math
import statistics
import time
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from papertape.engine.errors import ConfigError, DataError, ExecutionError
from papertape.engine.metrics import (
    ClosedTrade,
    PerformanceReport,
    compute_metrics,
    periods_per_year_from_times,
)

NS = 1_000_000_000
DAY_S = 86_400
T0 = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp()) * NS  # a Monday
QUARTER_S = 7_889_400  # 365.25 days / 4: four such bars make exactly one year
REPO = Path(__file__).resolve().parents[2]


def _times(step_s: int, n: int, start: int = T0) -> np.ndarray:
    return start + np.arange(n, dtype=np.int64) * step_s * NS


def _weekdays(n: int) -> np.ndarray:
    days = [d for d in range(n * 2) if d % 7 < 5][:n]  # T0 is a Monday: d % 7 in 5, 6 = weekend
    return T0 + np.asarray(days, dtype=np.int64) * DAY_S * NS


def _trade(pnl: float, entry_s: int = 0, exit_s: int = 1, side: int = 1) -> ClosedTrade:
    return ClosedTrade(
        symbol="BTC/USD",
        side=side,
        qty=1.0,
        entry_time=T0 + entry_s * NS,
        entry_price=100.0,
        exit_time=T0 + exit_s * NS,
        exit_price=100.0 + pnl,
        pnl=pnl,
        fees=0.0,
        bars_held=1,
    )


# --- a curve computed by hand -------------------------------------------------------------


@pytest.fixture
def hand_report() -> PerformanceReport:
    equity = np.array([100.0, 110.0, 99.0, 121.0, 110.0])
    return compute_metrics(equity, _times(QUARTER_S, 5), [])


def test_hand_curve_returns_and_growth(hand_report: PerformanceReport) -> None:
    # Spacing is a quarter of 365.25 days, so 4 bars a year and the span is exactly one year.
    assert hand_report.periods_per_year == 4.0
    assert hand_report.initial_equity == 100.0
    assert hand_report.final_equity == 110.0
    assert hand_report.total_return == pytest.approx(110 / 100 - 1)
    assert hand_report.cagr == pytest.approx(0.10)  # (110/100) ** (1 / 1 year) - 1
    assert hand_report.bars == 5


def test_hand_curve_risk_ratios(hand_report: PerformanceReport) -> None:
    r = [
        Fraction(110, 100) - 1,  # +1/10
        Fraction(99, 110) - 1,  # -1/10
        Fraction(121, 99) - 1,  # +2/9
        Fraction(110, 121) - 1,  # -1/11
    ]
    mean = (r[0] + r[1] + r[2] + r[3]) / 4
    assert mean == Fraction(13, 396)
    var = ((r[0] - mean) ** 2 + (r[1] - mean) ** 2 + (r[2] - mean) ** 2 + (r[3] - mean) ** 2) / 3
    assert var == Fraction(23959, 980100)
    sd = math.sqrt(var)
    downside = math.sqrt((Fraction(1, 10) ** 2 + Fraction(1, 11) ** 2) / 4)  # min(r, 0) only

    assert hand_report.volatility == pytest.approx(sd * math.sqrt(4))
    assert hand_report.volatility == pytest.approx(0.312700910, rel=1e-8)
    assert hand_report.sharpe == pytest.approx(float(mean) / sd * math.sqrt(4))
    assert hand_report.sharpe == pytest.approx(0.419932041, rel=1e-8)
    assert hand_report.sortino == pytest.approx(float(mean) / downside * math.sqrt(4))
    assert hand_report.sortino == pytest.approx(0.971638480, rel=1e-8)


def test_hand_curve_drawdown(hand_report: PerformanceReport) -> None:
    # Peaks 100, 110, 110, 121, 121: drawdowns 0, 0, 11/110, 0, 11/121.
    assert hand_report.max_drawdown == pytest.approx(11 / 110)
    # 110 at bar 1 is regained at bar 3 (2 bars); the 121 peak at bar 3 is still under at bar 4.
    assert hand_report.max_drawdown_duration_bars == 2
    assert hand_report.max_drawdown_duration == 2 * QUARTER_S
    assert hand_report.calmar == pytest.approx(0.10 / 0.10)


def test_longest_drawdown_is_not_the_deepest_and_uses_real_timestamps() -> None:
    equity = np.array([100.0, 90.0, 95.0, 100.0, 105.0, 104.0, 103.0, 102.0, 101.0])
    offsets_s = np.array([0, 10, 20, 30, 40, 41, 42, 43, 44], dtype=np.int64)

    report = compute_metrics(equity, T0 + offsets_s * NS, [], periods_per_year=252)

    assert report.max_drawdown == pytest.approx(10 / 100)  # 100 -> 90
    # Deepest episode lasts bars 0..3 (30 s); the unrecovered one from the 105 peak lasts
    # bars 4..8: longer in bars (4 > 3) but shorter in time (4 s < 30 s).
    assert report.max_drawdown_duration_bars == 4
    assert report.max_drawdown_duration == 30.0


def _brute_drawdown(equity: list[float], secs: list[int]) -> tuple[float, int, int]:
    mdd, longest_bars, longest_s = 0.0, 0, 0
    peak, peak_i, under = equity[0], 0, False
    for i, e in enumerate(equity):
        if e < peak:
            under = True
            mdd = max(mdd, (peak - e) / peak)
        if e < peak or under:  # still under, or this bar is the recovery
            longest_bars = max(longest_bars, i - peak_i)
            longest_s = max(longest_s, secs[i] - secs[peak_i])
        if e >= peak:
            peak, peak_i, under = e, i, False
    return mdd, longest_bars, longest_s


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(1, 8), min_size=1, max_size=30),
    st.lists(st.integers(1, 1_000), min_size=30, max_size=30),
)
def test_drawdown_matches_a_loop(levels: list[int], gaps: list[int]) -> None:
    equity = [float(x) for x in levels]  # small integers: many exact ties with the peak
    secs = [0, *np.cumsum(gaps[: len(equity) - 1]).tolist()]

    report = compute_metrics(np.array(equity), T0 + np.array(secs, dtype=np.int64) * NS, [])

    mdd, bars, seconds = _brute_drawdown(equity, secs)
    assert report.max_drawdown == pytest.approx(mdd)
    assert report.max_drawdown_duration_bars == bars
    assert report.max_drawdown_duration == seconds


# --- trades ---------------------------------------------------------------------------------


def test_trade_statistics_by_hand() -> None:
    trades = [_trade(50.0), _trade(-20.0), _trade(30.0), _trade(-10.0), _trade(0.0)]

    report = compute_metrics(np.array([100.0, 150.0]), _times(DAY_S, 2), trades)

    assert report.trades == 5
    assert report.win_rate == pytest.approx(2 / 5)  # 50 and 30; breakeven is not a win
    assert report.profit_factor == pytest.approx((50 + 30) / (20 + 10))
    assert report.expectancy == pytest.approx((50 - 20 + 30 - 10 + 0) / 5)
    assert report.avg_win == pytest.approx((50 + 30) / 2)
    assert report.avg_loss == pytest.approx((-20 - 10) / 2)


def test_profit_factor_edges() -> None:
    eq, ts = np.array([100.0, 101.0]), _times(DAY_S, 2)

    only_wins = compute_metrics(eq, ts, [_trade(5.0), _trade(1.0)])
    only_breakeven = compute_metrics(eq, ts, [_trade(0.0)])

    assert only_wins.profit_factor == math.inf
    assert only_wins.win_rate == 1.0
    assert math.isnan(only_wins.avg_loss)
    assert math.isnan(only_breakeven.profit_factor)
    assert only_breakeven.win_rate == 0.0


def test_exposure_from_mask_and_from_trades() -> None:
    ts = _times(60, 10)
    eq = np.full(10, 100.0)
    mask = np.array([0, 1, 1, 0, 0, 0, 1, 0, 0, 0], dtype=bool)
    # Held over bars [2, 5) and, overlapping, [4, 7): bars 2..6 are exposed.
    trades = [_trade(1.0, entry_s=120, exit_s=300), _trade(1.0, entry_s=240, exit_s=420)]

    assert compute_metrics(eq, ts, [], exposure_mask=mask).exposure == pytest.approx(3 / 10)
    assert compute_metrics(eq, ts, trades).exposure == pytest.approx(5 / 10)
    assert compute_metrics(eq, ts, []).exposure == 0.0
    with pytest.raises(DataError, match="exposure_mask"):
        compute_metrics(eq, ts, [], exposure_mask=mask[:-1])


@pytest.mark.parametrize(
    ("field", "value"),
    [("side", 0), ("qty", 0.0), ("qty", math.nan), ("exit_time", T0 - 1), ("bars_held", -1)],
)
def test_closed_trade_rejects_inconsistent_values(field: str, value: object) -> None:
    kwargs: dict[str, object] = {
        "symbol": "ETH/USD", "side": -1, "qty": 2.0, "entry_time": T0, "entry_price": 10.0,
        "exit_time": T0 + NS, "exit_price": 9.0, "pnl": 2.0, "fees": 0.0, "bars_held": 1,
    }  # fmt: skip
    ClosedTrade(**kwargs)  # type: ignore[arg-type]  # the valid baseline builds
    kwargs[field] = value
    with pytest.raises(ExecutionError):
        ClosedTrade(**kwargs)  # type: ignore[arg-type]


# --- annualisation --------------------------------------------------------------------------


def test_daily_bars_with_weekends_use_trading_days() -> None:
    assert periods_per_year_from_times(_weekdays(60)) == 252.0


def test_daily_bars_seven_days_a_week_use_calendar_days() -> None:
    assert periods_per_year_from_times(_times(DAY_S, 60)) == pytest.approx(365.25)


def test_one_minute_crypto_and_hourly_bars_use_calendar_time() -> None:
    one_minute = _times(60, 10_000)
    one_minute = np.delete(one_minute, [17, 400, 401, 5_000])  # a few missing candles

    assert periods_per_year_from_times(one_minute) == pytest.approx(365.25 * 24 * 60)
    assert periods_per_year_from_times(_times(3_600, 500)) == pytest.approx(365.25 * 24)
    assert periods_per_year_from_times(_times(7 * DAY_S, 60)) == pytest.approx(365.25 / 7)


def test_annualisation_needs_two_points_and_can_be_overridden() -> None:
    assert math.isnan(periods_per_year_from_times(_times(60, 1)))
    # A single week of weekdays shows no weekend gap: explicit ppy is how to say "trading days".
    assert periods_per_year_from_times(_weekdays(5)) == pytest.approx(365.25)
    report = compute_metrics(np.array([1.0, 1.1, 1.0, 1.2]), _weekdays(4), [], periods_per_year=52)
    assert report.periods_per_year == 52.0
    with pytest.raises(ConfigError, match="periods_per_year"):
        compute_metrics(np.array([1.0, 2.0]), _times(60, 2), [], periods_per_year=0.0)


def test_risk_free_rate_is_deannualised_geometrically() -> None:
    equity = np.array([100.0, 110.0, 99.0, 121.0, 110.0])
    r = np.array([0.1, -0.1, 22 / 99, -1 / 11])
    rf_per_quarter = 1.04 ** (1 / 4) - 1

    report = compute_metrics(equity, _times(QUARTER_S, 5), [], risk_free=0.04)

    expected = (r.mean() - rf_per_quarter) / statistics.stdev(r.tolist()) * 2
    assert report.sharpe == pytest.approx(expected)


# --- degenerate cases -----------------------------------------------------------------------


def test_single_point_curve_is_defined() -> None:
    report = compute_metrics(np.array([1_000.0]), np.array([T0]), [])

    assert report.total_return == 0.0
    assert report.max_drawdown == 0.0
    assert report.max_drawdown_duration_bars == 0
    assert report.bars == 1
    for name in ("cagr", "volatility", "sharpe", "sortino", "calmar", "periods_per_year"):
        assert math.isnan(getattr(report, name)), name


def test_flat_curve_ranks_zero() -> None:
    report = compute_metrics(np.full(100, 5_000.0), _times(3_600, 100), [])

    assert report.volatility == 0.0
    assert report.sharpe == 0.0
    assert report.sortino == 0.0
    assert report.calmar == 0.0
    assert report.max_drawdown == 0.0


def test_curve_that_only_rises_has_infinite_sortino_and_calmar() -> None:
    report = compute_metrics(np.array([100.0, 101.0, 103.0, 104.0]), _times(DAY_S, 4), [])

    assert report.sortino == math.inf
    assert report.calmar == math.inf
    assert 0 < report.sharpe < math.inf


def test_zero_trades_are_nan_not_errors() -> None:
    report = compute_metrics(np.array([100.0, 101.0, 99.0]), _times(DAY_S, 3), [])

    assert report.trades == 0
    for name in ("win_rate", "profit_factor", "expectancy", "avg_win", "avg_loss"):
        assert math.isnan(getattr(report, name)), name


def test_blown_up_account_is_defined() -> None:
    report = compute_metrics(np.array([100.0, 50.0, 0.0, -10.0]), _times(DAY_S, 4), [])

    assert report.cagr == -1.0
    assert report.max_drawdown == pytest.approx(110 / 100)
    assert report.max_drawdown_duration_bars == 3
    assert math.isnan(report.sharpe)


@pytest.mark.parametrize(
    ("equity", "times", "match"),
    [
        ([], [], "at least one point"),
        ([1.0, 2.0], [T0], "equal length"),
        ([1.0, math.nan], [T0, T0 + 1], "NaN"),
        ([0.0, 1.0], [T0, T0 + 1], "initial equity"),
        ([1.0, 2.0, 3.0], [T0, T0 + 2, T0 + 1], "never decrease"),
        (["a", "b"], [T0, T0 + 1], "numeric"),
    ],
)
def test_malformed_input_raises_data_error(
    equity: list[object], times: list[int], match: str
) -> None:
    with pytest.raises(DataError, match=match):
        compute_metrics(np.array(equity), np.array(times), [])


def test_as_dict_is_strict_json() -> None:
    report = compute_metrics(np.array([1.0]), np.array([T0]), [_trade(3.0)])

    payload = report.as_dict()

    text = json.dumps(payload, allow_nan=False)
    assert json.loads(text) == payload
    assert payload["profit_factor"] is None  # inf
    assert payload["sharpe"] is None  # NaN
    assert payload["trades"] == 1
    assert list(payload) == [f for f in PerformanceReport.__dataclass_fields__]


# --- real data and speed --------------------------------------------------------------------


def _sp500_closes() -> tuple[list[datetime], list[float]]:
    with (REPO / "papertape/engine/data/sp500_daily.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    dates = [datetime.fromisoformat(r["timestamp"]).replace(tzinfo=UTC) for r in rows]
    return dates, [float(r["close"]) for r in rows]


def test_sp500_buy_and_hold_matches_a_plain_computation() -> None:
    dates, closes = _sp500_closes()
    equity = [10_000.0 * c / closes[0] for c in closes]
    times = np.array([int(d.timestamp()) * NS for d in dates], dtype=np.int64)

    report = compute_metrics(np.array(equity), times, [], exposure_mask=np.ones(len(dates), bool))

    returns = [equity[i] / equity[i - 1] - 1 for i in range(1, len(equity))]
    sharpe = statistics.mean(returns) / statistics.stdev(returns) * math.sqrt(252)
    peak, mdd = equity[0], 0.0
    for e in equity:
        peak = max(peak, e)
        mdd = max(mdd, (peak - e) / peak)
    years = (dates[-1] - dates[0]) / timedelta(days=365.25)
    assert report.periods_per_year == 252.0
    assert report.sharpe == pytest.approx(sharpe, rel=1e-9)
    assert report.volatility == pytest.approx(statistics.stdev(returns) * math.sqrt(252))
    assert report.max_drawdown == pytest.approx(mdd, rel=1e-12)
    assert report.max_drawdown == pytest.approx(1 - 676.530029 / 1565.150024)  # 2007-10 -> 2009-03
    assert report.cagr == pytest.approx((closes[-1] / closes[0]) ** (1 / years) - 1)
    # Longest underwater: the 2000-03-24 close of 1527.46 was first regained on 2007-05-30.
    underwater = datetime(2007, 5, 30, tzinfo=UTC) - datetime(2000, 3, 24, tzinfo=UTC)
    assert report.max_drawdown_duration == underwater.total_seconds()
    assert report.exposure == 1.0


@pytest.mark.bench
def test_a_million_bars_take_well_under_a_second() -> None:
    rng = np.random.default_rng(7)
    n = 1_000_000
    equity = np.asarray(1e5 * np.cumprod(1 + rng.normal(0, 1e-3, n)), dtype=np.float64)
    times = _times(60, n)
    mask = rng.random(n) < 0.5

    best = math.inf
    for _ in range(3):
        start = time.perf_counter()
        report = compute_metrics(equity, times, [], exposure_mask=mask)
        best = min(best, time.perf_counter() - start)

    assert report.bars == n
    assert best < 0.5


def test_ticks_sharing_a_time_count_once_with_the_equity_after_the_last() -> None:
    # A tick-per-trade run marks one step per trade, and trades may share a time: the equity
    # at that time is the one after its last tick (the run's result once had no metrics).
    ticks = compute_metrics(
        np.array([100.0, 101.0, 97.0, 103.0, 102.0]),
        np.array([T0, T0 + 60, T0 + 60, T0 + 60, T0 + 120], dtype=np.int64),
        [],
        exposure_mask=np.array([False, True, True, False, True]),
    )
    once = compute_metrics(
        np.array([100.0, 103.0, 102.0]),
        np.array([T0, T0 + 60, T0 + 120], dtype=np.int64),
        [],
        exposure_mask=np.array([False, False, True]),
    )
    assert ticks == once
    assert ticks.bars == 3 and ticks.max_drawdown == pytest.approx(1 - 102 / 103)
