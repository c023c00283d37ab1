"""``papertape report``: one self-contained HTML page from an arena run folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

__all__ = ["register"]

REPORT_HELP = """\
Write one self-contained HTML file (plotly embedded; opens offline) from an arena run folder:
equity and drawdown of every trader per window, regime shading when the run was annotated,
trade markers on price, the leaderboard with its intervals, a calibration chart, and every LLM
decision with its reasoning, filterable by trader and action.

  papertape report journals/arena-arena-1a2b3c4d5e6f --out report.html
  papertape report RUN_DIR --out report.html --png docs/img   # also PNGs of the main charts
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``report`` subcommand."""
    p = sub.add_parser(
        "report",
        help="write the HTML report of an arena run",
        description=REPORT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("run_dir", help="an arena run folder (holds arena.json)")
    p.add_argument("--out", default="report.html", metavar="FILE.html", help="output file")
    p.add_argument(
        "--png",
        metavar="DIR",
        help="also screenshot the main charts into DIR with headless Chromium",
    )
    p.set_defaults(handler=_report)


def _report(args: argparse.Namespace) -> int:
    from papertape.analysis.report import write_pngs, write_report
    from papertape.arena.store import read_arena

    doc = read_arena(args.run_dir)
    out = write_report(doc, Path(args.out))
    err = Console(stderr=True)
    err.print(f"report: {out}", highlight=False)
    if args.png:
        for path in write_pngs(out, Path(args.png), doc):
            err.print(f"png: {path}", highlight=False)
    return 0
