"""The arena's HTML report: one self-contained file (plotly embedded) and PNGs of its charts."""

from __future__ import annotations

from papertape.analysis.report.page import main_figures, render_report, write_report
from papertape.analysis.report.png import chromium_binary, chromium_command, write_pngs

__all__ = [
    "chromium_binary",
    "chromium_command",
    "main_figures",
    "render_report",
    "write_pngs",
    "write_report",
]
