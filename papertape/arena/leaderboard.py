"""The leaderboard: one row per trader, pooled over the windows, with per-window figures.

Pooling: the windows are chained as if the capital of one window carried into the next (the
per-bar returns are concatenated, the equity curve compounds them), so the pooled total return
is the product of the windows' growth factors and the pooled Sharpe ratio is that of all bars.
Every figure is computed from recorded data only (no wall-clock time), so a re-run of the same
arena with a warm LLM cache gives the same leaderboard byte for byte.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from papertape.arena.baselines import is_baseline
from papertape.arena.calibration import decision_outcomes, score_calibration
from papertape.engine.errors import PapertapeError
from papertape.engine.metrics import compute_metrics, periods_per_year_from_times

if TYPE_CHECKING:
    from papertape.arena.runner import ArenaRun, WindowRun
    from papertape.arena.tape import TraderRun

__all__ = ["build_leaderboard", "pooled_returns"]


def _num(x: Any, digits: int = 10) -> float | None:
    if x is None or not isinstance(x, int | float) or not math.isfinite(x):
        return None
    return round(float(x), digits)


def _returns(equity: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(equity[1:] / equity[:-1] - 1.0, dtype=np.float64)


def pooled_returns(windows: Sequence[WindowRun], trader: str) -> NDArray[np.float64]:
    """Per-bar returns of a trader over all windows, in order."""
    parts = [_returns(w.traders[trader].equity) for w in windows]
    return np.concatenate(parts) if parts else np.zeros(0)


def _pooled_times(windows: Sequence[WindowRun]) -> NDArray[np.int64]:
    return np.concatenate([windows[0].times[:1], *(w.times[1:] for w in windows)])


def _kind(run: TraderRun) -> str:
    if is_baseline(run.id):
        return "baseline"
    return "llm" if run.strategy == "llm_trader" else "rule"


def _llm_figures(
    runs: Sequence[TraderRun], windows: Sequence[WindowRun], horizon: int
) -> dict[str, Any]:
    decisions = [d for r in runs for d in r.decisions]
    if not decisions:
        return {}
    invalid = Counter(str(d["reason_code"]) for d in decisions if d["reason_code"] != "ok")
    actions = Counter(str(d["action"]) for d in decisions)
    abstained = sum(1 for d in decisions if d["reason_code"] == "ok" and d["action"] == "HOLD")
    confs = [
        float(d["decision"]["confidence"])
        for d in decisions
        if d["reason_code"] == "ok" and d.get("decision")
    ]
    probs: list[float] = []
    hits: list[int] = []
    for run, w in zip(runs, windows, strict=True):
        p, h = decision_outcomes(run.decisions, w.series, horizon)
        probs += p
        hits += h
    cal = score_calibration(probs, hits)
    lat = np.array([float(d["latency_ms"]) for d in decisions])
    tokens_in = sum(int(d["tokens_in"]) for d in decisions)
    tokens_out = sum(int(d["tokens_out"]) for d in decisions)
    cost = sum(float(d["cost"]) for d in decisions)
    first = decisions[0]
    return {
        "provider": first["provider"],
        "model": first["model"],
        "decisions": len(decisions),
        "actions": dict(sorted(actions.items())),
        "invalid": dict(sorted(invalid.items())),
        "invalid_total": sum(invalid.values()),
        "abstained": abstained,
        "mean_confidence": _num(float(np.mean(confs))) if confs else None,
        "calibration": {
            "n": cal.n,
            "hit_rate": _num(cal.hit_rate),
            "mean_confidence": _num(cal.mean_confidence),
            "brier": _num(cal.brier),
            "ece": _num(cal.ece),
            "bins": cal.bins,
        },
        "tokens_in": tokens_in,
        "tokens_out": tokens_out,
        "cost": _num(cost),
        "cost_per_decision": _num(cost / len(decisions)),
        "latency_ms_p50": _num(float(np.percentile(lat, 50)), 1),
        "latency_ms_p95": _num(float(np.percentile(lat, 95)), 1),
    }


def _row(trader: str, windows: Sequence[WindowRun], horizon: int) -> dict[str, Any]:
    runs = [w.traders[trader] for w in windows]
    rets = pooled_returns(windows, trader)
    cash = float(runs[0].equity[0])
    equity = cash * np.concatenate([[1.0], np.cumprod(1.0 + rets)])
    side = np.concatenate([runs[0].side[:1], *(r.side[1:] for r in runs)])
    trades = [t for r in runs for t in r.trades]
    report = compute_metrics(equity, _pooled_times(windows), trades, exposure_mask=side != 0)
    # fees as a fraction of each window's starting equity, compounded like the returns
    growth_gross = math.prod((float(r.equity[-1]) + r.fees) / float(r.equity[0]) for r in runs)
    n = max(len(side), 1)
    m = report.as_dict()
    row: dict[str, Any] = {
        "trader": trader,
        "strategy": runs[0].strategy,
        "kind": _kind(runs[0]),
        "total_return": _num(m["total_return"]),
        "return_before_fees": _num(growth_gross - 1.0),
        "fees": _num(sum(r.fees for r in runs), 6),
        "sharpe": _num(m["sharpe"]),
        "sortino": _num(m["sortino"]),
        "calmar": _num(m["calmar"]),
        "max_drawdown": _num(m["max_drawdown"]),
        "trades": int(m["trades"] or 0),
        "win_rate": _num(m["win_rate"]),
        "profit_factor": _num(m["profit_factor"]),
        "time_long": _num(float(np.sum(side > 0)) / n),
        "time_short": _num(float(np.sum(side < 0)) / n),
        "time_flat": _num(float(np.sum(side == 0)) / n),
        "errors": sum(r.errors for r in runs),
        "enabled": all(r.enabled for r in runs),
        "windows": [
            {
                "window": w.window.label,
                "total_return": _num(r.metrics.total_return),
                "sharpe": _num(r.metrics.sharpe),
                "max_drawdown": _num(r.metrics.max_drawdown),
                "trades": r.metrics.trades,
            }
            for w, r in zip(windows, runs, strict=True)
        ],
    }
    llm = _llm_figures(runs, windows, horizon)
    if llm:
        row["llm"] = llm
    return row


def build_leaderboard(run: ArenaRun, blind: bool) -> dict[str, Any]:
    """The leaderboard of one variant as JSON-ready data (rows sorted by pooled Sharpe)."""
    windows = run.variant(blind)
    settings = run.config.arena
    traders = [*run.contestants, *run.baselines]
    rows = [_row(t, windows, settings.calibration_horizon) for t in traders]
    rows.sort(key=lambda r: -(r["sharpe"] if r["sharpe"] is not None else -math.inf))
    times = _pooled_times(windows)
    ppy = periods_per_year_from_times(windows[0].times)
    out: dict[str, Any] = {
        "blind": blind,
        "windows": [w.window.label for w in windows],
        "bars": int(len(times) - 1),
        "periods_per_year": _num(ppy),
        "rows": rows,
        "significance": None,
        "significance_note": None,
    }
    try:
        from papertape.arena.significance import compare_to_baselines

        report = compare_to_baselines(
            {t: pooled_returns(windows, t) for t in traders},
            list(run.contestants),
            list(run.baselines),
            periods_per_year=ppy if math.isfinite(ppy) else 252.0,
            alpha=settings.alpha,
            reps=settings.bootstrap_reps,
            seed=run.config.seed,
        )
    except ImportError as exc:
        out["significance_note"] = f"significance not computed: {exc}"
        return out
    except PapertapeError as exc:  # e.g. too few bars for a bootstrap
        out["significance_note"] = f"significance not computed: {exc}"
        return out
    if report is not None:
        out["significance"] = report.as_dict()
        for row in rows:
            comp = out["significance"]["comparisons"].get(row["trader"])
            if comp is not None:
                row["verdict"] = comp["verdict"]
    return out
