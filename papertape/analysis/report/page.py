"""Assemble the one-file HTML report: plotly embedded once, charts, tables, a decision filter."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import plotly.offline

from papertape.analysis.report.figures import (
    calibration_figure,
    colour_of,
    equity_figure,
    leaderboard_figure,
    price_figure,
)
from papertape.analysis.report.tables import (
    blinding_table,
    decisions_table,
    leaderboard_table,
    llm_table,
    windows_table,
)

__all__ = ["main_figures", "render_report", "write_report"]

STYLE = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:1.5em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
th,td{border:1px solid #ddd;padding:3px 7px;text-align:right;vertical-align:top}
th{background:#f4f4f4}td:first-child,td:last-child{text-align:left}
table.decisions td:last-child{max-width:560px}
.note{color:#555;font-size:13px;max-width:900px}
"""

FILTER_JS = """
function papertapeFilter(){
  const t=document.getElementById('f-trader').value, a=document.getElementById('f-action').value,
        p=document.getElementById('f-tape').value;
  let shown=0;
  document.querySelectorAll('table.decisions tbody tr').forEach(function(r){
    const ok=(!t||r.dataset.trader===t)&&(!a||r.dataset.action===a)&&(!p||r.dataset.tape===p);
    r.style.display=ok?'':'none'; if(ok){shown++;}
  });
  document.getElementById('f-count').textContent=shown+' decisions shown';
}
"""


def _div(fig: go.Figure, div_id: str) -> str:
    html: str = fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id)
    return html


def _select(ident: str, label: str, values: list[str]) -> str:
    opts = "".join(f'<option value="{escape(v)}">{escape(v)}</option>' for v in values)
    return (
        f'<label>{label} <select id="{ident}" onchange="papertapeFilter()">'
        f'<option value="">all</option>{opts}</select></label> '
    )


def main_figures(doc: dict[str, Any]) -> list[tuple[str, go.Figure]]:
    """The charts worth a PNG: first window's equity and trades, leaderboard, calibration."""
    traders = list(doc["windows"][0]["traders"]) if doc["windows"] else []
    colours = colour_of(traders)
    first_real = next((w for w in doc["windows"] if not w["blind"]), doc["windows"][0])
    board = next(iter(doc["summary"]["leaderboards"].values()))
    return [
        ("equity", equity_figure(first_real, colours)),
        ("trades", price_figure(first_real, colours)),
        ("leaderboard", leaderboard_figure(board, colours)),
        ("calibration", calibration_figure(board, colours)),
    ]


def render_report(doc: dict[str, Any]) -> str:
    """The whole page as one HTML string (works offline: plotly.js is inside)."""
    summary = doc["summary"]
    traders = list(doc["windows"][0]["traders"]) if doc["windows"] else []
    colours = colour_of(traders)
    parts = [
        f"<h1>papertape arena · {escape(doc['arena_id'])}</h1>",
        '<p class="note">Contestants: '
        + escape(", ".join(summary["contestants"]))
        + " · baselines: "
        + escape(", ".join(summary["baselines"]) or "none")
        + " · windows: "
        + escape(", ".join(summary["windows"]))
        + ". Every trader saw the same bars with the same costs, fills, sizer and shields, in "
        "its own portfolio. Intervals are 95% studentized circular block bootstrap intervals "
        "of the difference to the best baseline; a verdict says “beats” only where it holds "
        "after Romano–Wolf family-wise correction.</p>",
    ]
    n = 0
    for variant, board in summary["leaderboards"].items():
        parts.append(f"<h2>Leaderboard · {escape(variant)} tape</h2>")
        parts.append(leaderboard_table(board))
        sig = board.get("significance")
        if sig and sig.get("deflated_sharpe") is not None:
            parts.append(
                f'<p class="note">Winner {escape(str(sig["winner"]))}: deflated Sharpe ratio '
                f"{sig['deflated_sharpe']:.3f}: the probability that its Sharpe ratio is skill "
                f"rather than the luck of the best of {len(sig['comparisons'])} tries "
                "(above 0.95 is evidence).</p>"
            )
        elif board.get("significance_note"):
            parts.append(f'<p class="note">{escape(board["significance_note"])}</p>')
        parts.append(_div(leaderboard_figure(board, colours), f"chart-{n}"))
        n += 1
        parts.append("<h3>Per window: total return (Sharpe)</h3>" + windows_table(board))
        parts.append("<h3>LLM traders</h3>" + llm_table(board))
        parts.append(_div(calibration_figure(board, colours), f"chart-{n}"))
        n += 1
    parts.append("<h2>Does the edge survive blinding?</h2>" + blinding_table(summary["blinding"]))
    for w in doc["windows"]:
        tape = "blind" if w["blind"] else "real"
        parts.append(f"<h2>Window {escape(w['label'])} · {tape} tape</h2>")
        parts.append(f'<p class="note">journal: {escape(str(w["journal"]))}</p>')
        parts.append(_div(equity_figure(w, colours), f"chart-{n}"))
        parts.append(_div(price_figure(w, colours), f"chart-{n + 1}"))
        n += 2
    table, dtraders, dactions = decisions_table(doc["windows"])
    parts.append("<h2>Every LLM decision</h2>")
    parts.append(
        "<p>"
        + _select("f-trader", "trader", dtraders)
        + _select("f-action", "action", dactions)
        + _select("f-tape", "tape", ["real", "blind"])
        + '<span id="f-count"></span></p>'
    )
    parts.append(table)
    js = plotly.offline.get_plotlyjs()
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>papertape arena · {escape(doc['arena_id'])}</title>"
        f"<style>{STYLE}</style><script>{js}</script><script>{FILTER_JS}</script></head>"
        f"<body>{''.join(parts)}<script>papertapeFilter();</script></body></html>"
    )


def write_report(doc: dict[str, Any], out: Path) -> Path:
    """Write the report to ``out`` (folders created); return the path."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_report(doc), encoding="utf-8")
    return out
