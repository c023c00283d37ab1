from __future__ import annotations

import json

import numpy as np
import pytest

from papertape.engine.errors import ConfigError
from papertape.engine.feeds.base import BarSeries
from papertape.ml.regime.evaluate import StressPeriod, evaluate, sma_exposure
from papertape.ml.regime.report import markdown_report
from papertape.ml.regime.walkforward import WalkForward, bar_years, walk_forward

DAY = 86_400 * 10**9
T0 = int(np.datetime64("2001-01-01", "ns").astype(np.int64))


def _series(close: np.ndarray) -> BarSeries:
    t = T0 + np.arange(len(close), dtype=np.int64) * DAY
    return BarSeries.from_arrays(
        "X", t, close, close * 1.01, close * 0.99, close, np.ones(len(close))
    )


def _walk(series: BarSeries, labels: list[int], first: int) -> WalkForward:
    probs = np.full((len(labels), 3), np.nan)
    for i, k in enumerate(labels):
        if k >= 0:
            probs[i] = 0.0
            probs[i, k] = 1.0
    return WalkForward("toy", ("calm", "transition", "volatile"), series.time, probs, first, ())


def test_sma_exposure_uses_only_past_closes() -> None:
    close = np.array([5, 4, 3, 2, 3, 4, 5, 6, 5, 4], dtype=float)
    w = sma_exposure(close, 2, 3)
    expected = []
    for t in range(len(close)):
        if t < 2:
            expected.append(0.0)
        else:
            expected.append(
                1.0 if close[t - 1 : t + 1].mean() > close[t - 2 : t + 1].mean() else 0.0
            )
    assert w.tolist() == expected
    np.testing.assert_array_equal(sma_exposure(close[:6], 2, 3), w[:6])


def test_filter_goes_flat_in_the_volatile_regime_and_earns_the_next_bar() -> None:
    # prices: +10% on day 1->2, -50% on day 2->3, then flat
    close = np.array([100, 100, 110, 55, 55, 55, 55, 55, 55, 55], dtype=float)
    series = _series(close)
    labels = [0, 0, 0, 2, 2, 2, 0, 0, 0, 0]
    report = evaluate(series, [_walk(series, labels, 0)], fast=2, slow=3, cost_bps=0.0)
    rows = {(r.strategy, r.variant): r for r in report.detectors[0].strategies}
    base = {r.strategy: r for r in report.baselines}
    assert base["buy & hold"].max_drawdown == pytest.approx(0.5)
    # regime known at the close of day 2 is calm: the crash of day 3 is NOT avoided (no look-ahead)
    assert rows[("buy & hold", "filtered")].max_drawdown == pytest.approx(0.5)
    # the sized variant holds 1.5x into the crash
    assert rows[("buy & hold", "sized")].max_drawdown == pytest.approx(0.75)


def test_costs_are_charged_on_each_change_of_exposure() -> None:
    close = np.full(30, 100.0)
    series = _series(close)
    labels = [0, 2] * 15
    report = evaluate(series, [_walk(series, labels, 0)], cost_bps=10.0)
    filtered = next(
        r
        for r in report.detectors[0].strategies
        if r.strategy == "buy & hold" and r.variant == "filtered"
    )
    # flat prices: every switch costs 10 bp, so the curve only falls
    assert filtered.cagr < 0 and filtered.max_drawdown > 0.01


def test_regime_stats_durations_and_stress_lag() -> None:
    n = 400
    rng = np.random.default_rng(0)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    series = _series(close)
    labels = [-1] * 10 + [0] * 90 + [2] * 50 + [1] * 250
    wf = _walk(series, labels, 10)
    start = str(np.datetime64(int(series.time[120]), "ns").astype("datetime64[D]"))
    end = str(np.datetime64(int(series.time[200]), "ns").astype("datetime64[D]"))
    report = evaluate(series, [wf], periods=[StressPeriod("toy", start, end)])
    d = report.detectors[0]
    stats = {r.regime: r for r in d.regimes}
    assert stats["calm"].mean_run_bars == 90 and stats["volatile"].mean_run_bars == 50
    assert stats["calm"].share == pytest.approx(90 / 389)
    assert d.stress[0].lag_bars == 0 and d.stress[0].volatile_share == pytest.approx(30 / 81)
    assert d.switches_per_year == pytest.approx(
        2 / ((series.time[-1] - series.time[10]) / DAY / 365.25)
    )
    text = markdown_report(report)
    assert "| toy | calm |" in text and "SMA 10/30" in text


def test_walk_forward_labels_are_out_of_sample_only(spx_short: BarSeries) -> None:
    wf = walk_forward(spx_short, "heuristic", first_test_year=2001, refit_years=2)
    years = bar_years(spx_short.time)
    assert [r.test_first[:4] for r in wf.refits] == ["2001", "2003"]
    assert np.isnan(wf.probs[years < 2001]).all() and np.isfinite(wf.probs[years >= 2001]).all()
    assert wf.refits[0].train_last.startswith("2000-12-29")
    assert wf.refits[1].test_last.startswith("2004-12-31")
    assert wf.refits[1].train_rows > wf.refits[0].train_rows


def test_walk_forward_refuses_a_first_year_outside_the_data(spx_short: BarSeries) -> None:
    with pytest.raises(ConfigError):
        walk_forward(spx_short, "heuristic", first_test_year=1999)
    with pytest.raises(ConfigError):
        walk_forward(spx_short, "heuristic", first_test_year=2001, refit_years=0)


def test_report_serialises_without_nan(spx_short: BarSeries) -> None:
    wf = walk_forward(spx_short, "heuristic", first_test_year=2003)
    out = evaluate(spx_short, [wf]).to_dict()
    json.dumps(out, allow_nan=False)
    dotcom = out["detectors"][0]["stress"][0]
    assert dotcom["lag_bars"] is None and dotcom["volatile_share"] is None  # before 2003: n/a
