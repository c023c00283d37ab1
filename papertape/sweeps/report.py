"""The sweep's one-file HTML report: overfitting figures, a heatmap of the grid, the table."""

from __future__ import annotations

from html import escape
from pathlib import Path

import plotly.graph_objects as go
import plotly.offline

from papertape.analysis.report.page import STYLE
from papertape.sweeps.runner import SweepOutcome
from papertape.sweeps.spec import SweepSpec
from papertape.sweeps.worker import METRICS

__all__ = ["grid_figure", "render_sweep_report", "write_sweep_report"]


def grid_figure(outcome: SweepOutcome, spec: SweepSpec, metric: str = "sharpe") -> go.Figure:
    """Heatmap of ``metric`` over the first two swept parameters (a bar chart for one)."""
    names = list(spec.params)
    if len(names) >= 2:
        x_name, y_name = names[0], names[1]
        xs, ys = spec.params[x_name], spec.params[y_name]
        z: list[list[float | None]] = [[None] * len(xs) for _ in ys]
        for r in outcome.whole():
            i, j = ys.index(r.params[y_name]), xs.index(r.params[x_name])
            current = z[i][j]
            value = r.metrics[metric]
            z[i][j] = value if current is None else max(current, value)
        fig = go.Figure(
            go.Heatmap(
                z=z,
                x=[str(v) for v in xs],
                y=[str(v) for v in ys],
                colorscale="RdYlGn",
                colorbar={"title": metric},
            )
        )
        fig.update_layout(xaxis_title=x_name, yaxis_title=y_name)
    else:
        fig = go.Figure(
            go.Bar(
                x=[r.task_id for r in outcome.whole()],
                y=[r.metrics[metric] for r in outcome.whole()],
            )
        )
    fig.update_layout(title=f"{metric} by cell", height=520)
    return fig


def render_sweep_report(outcome: SweepOutcome, spec: SweepSpec) -> str:
    """The report as one HTML page with plotly embedded."""
    o = outcome.overfitting
    figures = grid_figure(outcome, spec).to_html(full_html=False, include_plotlyjs=False)
    head = "".join(f"<th>{escape(h)}</th>" for h in ("cell", "run id", *METRICS))
    rows = "".join(
        "<tr>"
        + f"<td>{escape(r.task_id)}</td><td>{escape(r.run_id)}</td>"
        + "".join(f"<td>{r.metrics[m]:.4g}</td>" for m in METRICS)
        + "</tr>"
        for r in sorted(outcome.results, key=lambda r: -r.metrics["sharpe"])
    )
    dsr = "n/a" if o.deflated_sharpe is None else f"{o.deflated_sharpe:.3f}"
    pbo = "n/a" if o.pbo is None else f"{o.pbo:.3f}"
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>papertape sweep</title>"
        f"<style>{STYLE}</style>"
        f"<script>{plotly.offline.get_plotlyjs()}</script></head><body>"
        f"<h1>Sweep: {len(outcome.results)} cells</h1>"
        f"<p>Best cell <b>{escape(o.best_task)}</b>: deflated Sharpe ratio <b>{dsr}</b> for "
        f"{o.n_trials} cells tried (per-bar Sharpe {o.best_sharpe:.4f}, "
        f"{o.expected_max_sharpe:.4f} expected from the best of that many zero-skill tries). "
        f"Probability of backtest overfitting <b>{pbo}</b> (CSCV, {o.pbo_splits} slices).</p>"
        "<p class='note'>A DSR above 0.95 says the winner's edge survives the number of cells "
        "tried; a PBO near 0.5 or above says picking the best cell picks noise.</p>"
        f"<h2>Grid</h2>{figures}<h2>Cells</h2>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></body></html>"
    )


def write_sweep_report(outcome: SweepOutcome, spec: SweepSpec, out: Path) -> Path:
    """Write :func:`render_sweep_report` to ``out``; return it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_sweep_report(outcome, spec), encoding="utf-8")
    return out
