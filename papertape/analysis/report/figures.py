"""The report's charts, as plotly figures built from an arena document (``arena.json``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

__all__ = [
    "calibration_figure",
    "equity_figure",
    "leaderboard_figure",
    "price_figure",
]

PALETTE = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#17becf",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
)
REGIME_COLOURS = {
    "calm": "rgba(44,160,44,0.10)",
    "transition": "rgba(255,127,14,0.10)",
    "volatile": "rgba(214,39,40,0.12)",
}


def _dates(ns: list[int]) -> list[str]:
    return [datetime.fromtimestamp(t / 1e9, tz=UTC).strftime("%Y-%m-%d %H:%M") for t in ns]


def colour_of(traders: list[str]) -> dict[str, str]:
    """One colour per trader, the same in every chart."""
    return {t: PALETTE[i % len(PALETTE)] for i, t in enumerate(traders)}


def _regime_spans(window: dict[str, Any]) -> list[tuple[int, int, str]]:
    changes = sorted(window.get("regimes") or [], key=lambda r: r["time"])
    if not changes or not window["times"]:
        return []
    end = window["times"][-1]
    spans = []
    for i, ch in enumerate(changes):
        stop = changes[i + 1]["time"] if i + 1 < len(changes) else end
        spans.append((int(ch["time"]), int(stop), str(ch["regime"])))
    return spans


def equity_figure(window: dict[str, Any], colours: dict[str, str]) -> go.Figure:
    """Equity (top) and drawdown (bottom) of every trader in one window."""
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.68, 0.32], vertical_spacing=0.04
    )
    x = _dates(window["times"])
    for tid, t in window["traders"].items():
        eq = np.asarray(t["equity"], dtype=np.float64)
        dd = eq / np.maximum.accumulate(eq) - 1.0
        c = colours.get(tid, "#333")
        fig.add_trace(
            go.Scatter(x=x, y=eq, name=tid, legendgroup=tid, line={"color": c, "width": 1.5}),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=dd * 100,
                name=tid,
                legendgroup=tid,
                showlegend=False,
                line={"color": c, "width": 1},
            ),
            row=2,
            col=1,
        )
    for start, stop, regime in _regime_spans(window):
        fig.add_vrect(
            x0=_dates([start])[0],
            x1=_dates([stop])[0],
            line_width=0,
            fillcolor=REGIME_COLOURS.get(regime, "rgba(120,120,120,0.08)"),
            annotation_text=regime,
            annotation_position="top left",
        )
    tape = "blind tape" if window["blind"] else "real tape"
    fig.update_layout(
        title=f"Equity and drawdown · {window['label']} · {tape}",
        height=520,
        margin={"l": 60, "r": 20, "t": 50, "b": 40},
        template="plotly_white",
    )
    fig.update_yaxes(title_text="equity", row=1, col=1)
    fig.update_yaxes(title_text="drawdown %", row=2, col=1)
    return fig


def price_figure(window: dict[str, Any], colours: dict[str, str]) -> go.Figure:
    """Closes of each symbol with every trader's fills (▲ bought, ▼ sold)."""
    fig = go.Figure()
    for sym, p in window["prices"].items():
        fig.add_trace(
            go.Scatter(
                x=_dates(p["times"]), y=p["close"], name=sym, line={"color": "#444", "width": 1}
            )
        )
    for tid, t in window["traders"].items():
        fills = t.get("fills") or []
        if not fills:
            continue
        c = colours.get(tid, "#333")
        fig.add_trace(
            go.Scatter(
                x=_dates([f["time"] for f in fills]),
                y=[f["price"] for f in fills],
                mode="markers",
                name=tid,
                legendgroup=tid,
                marker={
                    "symbol": ["triangle-up" if f["qty"] > 0 else "triangle-down" for f in fills],
                    "size": 9,
                    "color": c,
                    "line": {"width": 0.5, "color": "#222"},
                },
                text=[
                    f"{tid} {'bought' if f['qty'] > 0 else 'sold'} {abs(f['qty']):.4g} "
                    f"{f['symbol']} @ {f['price']:,.2f}"
                    for f in fills
                ],
            )
        )
    tape = "blind tape" if window["blind"] else "real tape"
    fig.update_layout(
        title=f"Trades on price · {window['label']} · {tape}",
        height=420,
        margin={"l": 60, "r": 20, "t": 50, "b": 40},
        template="plotly_white",
    )
    return fig


def leaderboard_figure(board: dict[str, Any], colours: dict[str, str]) -> go.Figure:
    """Each contestant's Sharpe difference to the best baseline, with its 95% interval.

    Without the significance figures: the pooled Sharpe ratio of every trader.
    """
    rows = board["rows"]
    sig = board.get("significance")
    if sig:
        comps = sig["comparisons"]
        names = list(comps)
        y = [comps[n]["sharpe_difference"]["statistic"] for n in names]
        lo = [comps[n]["sharpe_difference"]["ci_low"] for n in names]
        hi = [comps[n]["sharpe_difference"]["ci_high"] for n in names]
        fig = go.Figure(
            go.Bar(
                x=names,
                y=y,
                marker_color=[colours.get(n, "#333") for n in names],
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [
                        (h - v) if h is not None and v is not None else 0
                        for h, v in zip(hi, y, strict=True)
                    ],
                    "arrayminus": [
                        (v - lo_) if lo_ is not None and v is not None else 0
                        for lo_, v in zip(lo, y, strict=True)
                    ],
                },
                text=[comps[n]["verdict"] for n in names],
            )
        )
        title = f"Sharpe difference to {sig['best_baseline']} (95% bootstrap interval)"
    else:
        names = [r["trader"] for r in rows]
        fig = go.Figure(
            go.Bar(
                x=names,
                y=[r["sharpe"] or 0.0 for r in rows],
                marker_color=[colours.get(n, "#333") for n in names],
            )
        )
        title = "Pooled Sharpe ratio (no significance library: no intervals)"
    tape = "blind tape" if board["blind"] else "real tape"
    fig.update_layout(
        title=f"{title} · {tape}",
        height=380,
        template="plotly_white",
        margin={"l": 60, "r": 20, "t": 50, "b": 60},
    )
    return fig


def calibration_figure(board: dict[str, Any], colours: dict[str, str]) -> go.Figure:
    """Stated confidence against the realised hit rate of every LLM trader.

    Reliability bins per trader (one point per trader when the calibration library is
    absent), and the diagonal of perfect calibration.
    """
    fig = go.Figure(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            name="perfectly calibrated",
            line={"dash": "dash", "color": "#999"},
        )
    )
    for r in board["rows"]:
        llm = r.get("llm")
        if not llm:
            continue
        cal = llm["calibration"]
        c = colours.get(r["trader"], "#333")
        bins = [b for b in cal.get("bins") or [] if b.get("count")]
        if bins:
            x = [b.get("mean_confidence") for b in bins]
            y = [b.get("hit_rate") for b in bins]
            size = [6 + 2 * float(np.sqrt(b["count"])) for b in bins]
        elif cal["n"]:
            x, y, size = (
                [cal["mean_confidence"]],
                [cal["hit_rate"]],
                [6 + 2 * float(np.sqrt(cal["n"]))],
            )
        else:
            continue
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="markers+lines",
                name=f"{r['trader']} (n={cal['n']})",
                marker={"size": size, "color": c},
                line={"color": c},
            )
        )
    tape = "blind tape" if board["blind"] else "real tape"
    fig.update_layout(
        title=f"Calibration: stated confidence vs realised hit rate · {tape}",
        xaxis={"title": "stated confidence", "range": [0, 1]},
        yaxis={"title": "hit rate", "range": [0, 1]},
        height=420,
        template="plotly_white",
        margin={"l": 60, "r": 20, "t": 50, "b": 50},
    )
    return fig
