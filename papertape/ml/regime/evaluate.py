"""Out-of-sample evaluation of walk-forward regime labels: do they matter?

For each detector's :class:`~ml.regime.walkforward.WalkForward` labels this computes, over the
out-of-sample bars only:

* per regime: share of bars, mean observed run length, expected duration from the HMM's
  transition matrix (HMM only, mean over refits), and the annualised return, volatility and
  Sharpe of the *next* bar's return (the regime is known at the close, the return comes after);
* turnover: regime switches per year;
* detection lag around known stress periods: trading days from the period's start to the first
  ``volatile`` label, and the share of the period labelled volatile;
* the effect on a base strategy (SMA crossover and buy-and-hold, long only): unfiltered, filtered
  (flat while the regime is volatile) and sized (exposure × a multiplier per regime). Positions
  are decided on a bar's close and earn the next bar's close-to-close return; every change of
  exposure pays ``cost_bps`` of the notional traded. Sharpe, max drawdown and CAGR come from
  :func:`engine.metrics.compute_metrics`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from papertape.engine.metrics import compute_metrics
from papertape.ml.regime.model import iso_time
from papertape.ml.regime.walkforward import WalkForward

if TYPE_CHECKING:
    from papertape.engine.feeds.base import BarSeries
    from papertape.ml.regime.base import FloatArray

__all__ = [
    "DEFAULT_MULTIPLIERS",
    "STRESS_PERIODS",
    "DetectorReport",
    "EvaluationReport",
    "RegimeStats",
    "StrategyRow",
    "StressLag",
    "StressPeriod",
    "evaluate",
]

DEFAULT_MULTIPLIERS: dict[str, float] = {
    "calm": 1.5,
    "normal": 1.0,
    "transition": 0.5,
    "volatile": 0.3,
}
PPY = 252.0


@dataclass(frozen=True, slots=True)
class StressPeriod:
    """A known market stress period (peak to trough of the index)."""

    name: str
    start: str
    end: str


STRESS_PERIODS: tuple[StressPeriod, ...] = (
    StressPeriod("dot-com bear", "2000-03-24", "2002-10-09"),
    StressPeriod("financial crisis", "2007-10-09", "2009-03-09"),
    StressPeriod("Lehman crash", "2008-09-15", "2009-03-09"),
)


@dataclass(frozen=True, slots=True)
class RegimeStats:
    """Out-of-sample facts of one regime of one detector."""

    regime: str
    share: float
    mean_run_bars: float
    expected_duration_bars: float | None
    ann_return: float
    ann_volatility: float
    sharpe: float


@dataclass(frozen=True, slots=True)
class StressLag:
    """How a detector met one stress period."""

    period: str
    start: str
    end: str
    lag_bars: int | None
    volatile_share: float


@dataclass(frozen=True, slots=True)
class StrategyRow:
    """Out-of-sample performance of one strategy variant."""

    strategy: str
    variant: str
    sharpe: float
    max_drawdown: float
    cagr: float
    volatility: float
    avg_exposure: float
    turnover_per_year: float


@dataclass(frozen=True, slots=True)
class DetectorReport:
    """Everything measured for one detector."""

    kind: str
    regimes: tuple[RegimeStats, ...]
    switches_per_year: float
    stress: tuple[StressLag, ...]
    volatile_share_outside_stress: float
    strategies: tuple[StrategyRow, ...]
    refits: int
    mean_fit_seconds: float


@dataclass(frozen=True, slots=True)
class EvaluationReport:
    """The walk-forward evaluation of every detector against the same baselines."""

    data: str
    oos_first: str
    oos_last: str
    settings: dict[str, Any]
    baselines: tuple[StrategyRow, ...]
    detectors: tuple[DetectorReport, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (non-finite numbers become None)."""
        return _finite(asdict(self))  # type: ignore[no-any-return]


def _finite(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _runs(labels: np.ndarray[Any, Any]) -> list[tuple[int, int]]:
    """``(label, length)`` of each run of equal labels."""
    if len(labels) == 0:
        return []
    cut = np.flatnonzero(np.diff(labels)) + 1
    starts = np.concatenate([[0], cut])
    ends = np.concatenate([cut, [len(labels)]])
    return [(int(labels[s]), int(e - s)) for s, e in zip(starts, ends, strict=True)]


def _ns(date: str) -> int:
    return int(np.datetime64(date, "ns").astype(np.int64))


def sma_exposure(close: FloatArray, fast: int, slow: int) -> FloatArray:
    """1.0 while the fast SMA of closes is above the slow one (bars ``<= t`` only), else 0."""
    c = np.concatenate([[0.0], np.cumsum(close)])

    def sma(n: int) -> FloatArray:
        out = np.full(len(close), np.nan)
        out[n - 1 :] = (c[n:] - c[:-n]) / n
        return out

    f, s = sma(fast), sma(slow)
    return np.where(np.isfinite(s) & (f > s), 1.0, 0.0)


def _backtest(
    name: str,
    variant: str,
    close: FloatArray,
    times: np.ndarray[Any, Any],
    exposure: FloatArray,
    first: int,
    cost: float,
) -> StrategyRow:
    """Exposure decided at close ``t`` earns bar ``t+1``; the curve starts at bar ``first``."""
    w = exposure[first:-1]
    r = close[first + 1 :] / close[first:-1] - 1.0
    traded = np.abs(np.diff(np.concatenate([[0.0], w])))
    growth = 1.0 + w * r - cost * traded
    equity = np.concatenate([[1.0], np.cumprod(growth)])
    m = compute_metrics(equity, times[first:], [], periods_per_year=PPY)
    years = (times[-1] - times[first]) / 1e9 / 86400 / 365.25
    return StrategyRow(
        name,
        variant,
        m.sharpe,
        m.max_drawdown,
        m.cagr,
        m.volatility,
        float(w.mean()),
        float(traded.sum() / years),
    )


def _regime_stats(wf: WalkForward, close: FloatArray) -> tuple[RegimeStats, ...]:
    lab = wf.labels[wf.first_test : -1]
    nxt = close[wf.first_test + 1 :] / close[wf.first_test : -1] - 1.0
    runs = [(g, n) for g, n in _runs(wf.labels[wf.first_test :]) if g >= 0]
    out = []
    for k, name in enumerate(wf.names):
        r = nxt[lab == k]
        lengths = [n for g, n in runs if g == k]
        durations = [f.expected_durations[name] for f in wf.refits if name in f.expected_durations]
        mean_r = float(r.mean()) * PPY if len(r) else math.nan
        vol = float(r.std(ddof=1)) * math.sqrt(PPY) if len(r) > 1 else math.nan
        out.append(
            RegimeStats(
                name,
                float(np.mean(lab == k)),
                float(np.mean(lengths)) if lengths else math.nan,
                float(np.mean(durations)) if durations else None,
                mean_r,
                vol,
                mean_r / vol if vol and math.isfinite(vol) else math.nan,
            )
        )
    return tuple(out)


def _stress(
    wf: WalkForward, periods: Sequence[StressPeriod]
) -> tuple[tuple[StressLag, ...], float]:
    labels = wf.labels
    volatile = len(wf.names) - 1
    outside = np.ones(len(labels), dtype=bool)
    outside[: wf.first_test] = False
    out = []
    for p in periods:
        lo = int(np.searchsorted(wf.time, _ns(p.start), "left"))
        hi = int(np.searchsorted(wf.time, _ns(p.end), "right"))
        outside[lo:hi] = False
        seg = labels[lo:hi]
        hits = np.flatnonzero(seg == volatile)
        usable = lo >= wf.first_test and len(seg) > 0
        out.append(
            StressLag(
                p.name,
                p.start,
                p.end,
                int(hits[0]) if usable and len(hits) else None,
                float(np.mean(seg == volatile)) if usable else math.nan,
            )
        )
    share = float(np.mean(labels[outside] == volatile)) if outside.any() else math.nan
    return tuple(out), share


def evaluate(
    series: BarSeries,
    walks: Sequence[WalkForward],
    *,
    fast: int = 10,
    slow: int = 30,
    cost_bps: float = 5.0,
    multipliers: Mapping[str, float] | None = None,
    periods: Sequence[StressPeriod] = STRESS_PERIODS,
    settings: Mapping[str, Any] | None = None,
) -> EvaluationReport:
    """Evaluate walk-forward labels of one or more detectors on the same series.

    All walks must share the first out-of-sample bar (same ``first_test_year``). ``settings``
    are recorded in the report as given (e.g. the walk-forward's first test year).
    """
    close = np.asarray(series.close, dtype=np.float64)
    times = np.asarray(series.time, dtype=np.int64)
    if not walks:
        raise ValueError("nothing to evaluate")
    first = walks[0].first_test
    if any(w.first_test != first for w in walks):
        raise ValueError("all walk-forwards must start at the same bar")
    mult = {**DEFAULT_MULTIPLIERS, **(multipliers or {})}
    cost = cost_bps / 1e4
    bases = {
        f"SMA {fast}/{slow}": sma_exposure(close, fast, slow),
        "buy & hold": np.ones(len(close)),
    }
    baselines = tuple(
        _backtest(name, "unfiltered", close, times, w, first, cost) for name, w in bases.items()
    )
    reports = []
    for wf in walks:
        labels = wf.labels
        volatile = len(wf.names) - 1
        scale = np.array([mult.get(n, 1.0) for n in wf.names] + [1.0])  # label -1: unchanged
        rows = []
        for name, w in bases.items():
            rows.append(
                _backtest(
                    name,
                    "filtered",
                    close,
                    times,
                    np.where(labels == volatile, 0.0, w),
                    first,
                    cost,
                )
            )
            rows.append(_backtest(name, "sized", close, times, w * scale[labels], first, cost))
        years = (times[-1] - times[first]) / 1e9 / 86400 / 365.25
        oos = labels[first:]
        oos = oos[oos >= 0]
        stress, outside = _stress(wf, periods)
        reports.append(
            DetectorReport(
                wf.kind,
                _regime_stats(wf, close),
                float(np.count_nonzero(np.diff(oos)) / years),
                stress,
                outside,
                tuple(rows),
                len(wf.refits),
                float(np.mean([f.seconds for f in wf.refits])) if wf.refits else math.nan,
            )
        )
    return EvaluationReport(
        Path(series.source).name if series.source else series.symbol,
        iso_time(int(times[first])),
        iso_time(int(times[-1])),
        {
            **dict(settings or {}),
            "fast": fast,
            "slow": slow,
            "cost_bps": cost_bps,
            "multipliers": mult,
            "refits": len(walks[0].refits),
        },
        baselines,
        tuple(reports),
    )
