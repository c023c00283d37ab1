"""``papertape sweep``: a parameter grid over local cores or a Ray cluster."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from papertape.engine.cli.jsonable import to_json
from papertape.engine.errors import ConfigError

__all__ = ["register"]

HELP = """\
Expand the config's [sweep] section into cells (one session per parameter combination), run
them on this machine's cores or a Ray cluster, and print the best cells with the deflated
Sharpe ratio of the winner (for the number of cells tried) and the probability of backtest
overfitting (CSCV over the grid). Results are identical at any worker count or backend.
Finished cells are kept in the sweep's folder: run the same command again after a crash or
Ctrl-C and it continues where it stopped.

  papertape sweep configs/sweep-demo.toml                 # local processes, one per core
  papertape sweep configs/sweep-demo.toml --workers 1     # in this process
  papertape sweep configs/sweep-demo.toml --ray auto      # a local Ray (or RAY_ADDRESS)
  papertape sweep configs/sweep-demo.toml --ray ray://head:10001 --json
  papertape sweep configs/sweep-demo.toml --report sweep.html --table sweep.csv
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``sweep`` subcommand."""
    p = sub.add_parser(
        "sweep",
        help="run a parameter sweep on local cores or Ray, with overfitting measured",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("config", help="a run config with a [sweep] section")
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--workers", type=int, help="local worker processes (default: this machine's cores)"
    )
    where.add_argument(
        "--ray", metavar="auto|ADDRESS", help="run on Ray: auto (ray.init()) or a cluster address"
    )
    p.add_argument("--out", metavar="DIR", help="the sweep's folder (default: under journal.dir)")
    p.add_argument("--top", type=int, default=10, help="best cells shown (default 10)")
    p.add_argument("--table", metavar="FILE.csv", help="write the full result table as CSV")
    p.add_argument(
        "--report",
        metavar="FILE.html",
        help="where the HTML report (table, heatmap) goes (default: report.html in the folder)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(handler=_sweep)


def _sweep(args: argparse.Namespace) -> int:
    import os

    from papertape.sweeps import load_sweep, run_sweep
    from papertape.sweeps.executors import llm_cache_dir

    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    if workers < 1:
        raise ConfigError("--workers", workers, "must be >= 1")
    base, spec = load_sweep(args.config)
    err = Console(stderr=True)
    outcome = run_sweep(
        base,
        spec,
        workers=workers,
        ray=args.ray,
        folder=Path(args.out) if args.out else None,
        console=None if args.no_progress else err,
    )
    if args.table:
        Path(args.table).write_text(outcome.table(), encoding="utf-8")
    from papertape.sweeps.report import write_sweep_report

    report = write_sweep_report(
        outcome, spec, Path(args.report) if args.report else outcome.folder / "report.html"
    )
    ranked = sorted(outcome.whole(), key=lambda r: (-r.metrics["sharpe"], r.index))
    wf = outcome.walk_forward
    if args.json:
        doc = {
            "folder": str(outcome.folder),
            "cells": len(outcome.results),
            "ran": outcome.ran,
            "reused": outcome.reused,
            "seconds": outcome.seconds,
            "report": str(report),
            "overfitting": outcome.overfitting.as_dict(),
            "walk_forward": wf.as_dict() if wf else None,
            "llm_usage": outcome.llm_usage,
            "best": [r.header() for r in ranked[: args.top]],
            "table": outcome.table(),
        }
        print(json.dumps(to_json(doc), indent=2))
        return 0
    out = Console()
    table = Table(title=f"best {min(args.top, len(ranked))} of {len(ranked)} cells by Sharpe")
    for col in ("cell", "sharpe", "total return", "max drawdown", "trades"):
        table.add_column(col, justify="left" if col == "cell" else "right")
    for r in ranked[: args.top]:
        m = r.metrics
        table.add_row(
            r.task_id,
            f"{m['sharpe']:.3f}",
            f"{m['total_return']:+.1%}",
            f"{m['max_drawdown']:.1%}",
            f"{m['trades']:.0f}",
        )
    out.print(table)
    o = outcome.overfitting
    dsr = "n/a" if o.deflated_sharpe is None else f"{o.deflated_sharpe:.3f}"
    pbo = "n/a" if o.pbo is None else f"{o.pbo:.3f}"
    out.print(
        f"best cell {o.best_task}: deflated Sharpe {dsr} for {o.n_trials} cells tried "
        f"(per-bar Sharpe {o.best_sharpe:.4f} vs {o.expected_max_sharpe:.4f} expected from luck); "
        f"PBO {pbo} (CSCV, {o.pbo_splits} slices)",
        highlight=False,
    )
    if wf is not None:
        for f in wf.folds:
            out.print(
                f"fold {f.fold}: in-sample winner {f.winner} (Sharpe {f.in_sample_sharpe:.2f}) "
                f"-> out of sample Sharpe {f.out_of_sample_sharpe:.2f}, return "
                f"{f.out_of_sample_return:+.1%}, beat {f.out_of_sample_rank:.0%} of the grid",
                highlight=False,
            )
        out.print(
            f"walk-forward out of sample: return {wf.out_of_sample_return:+.1%}, per-bar Sharpe "
            f"{wf.out_of_sample_sharpe:.4f}, mean rank {wf.mean_rank:.2f} (0.5: typical)",
            highlight=False,
        )
    if outcome.llm_usage:
        u = outcome.llm_usage
        out.print(
            f"LLM: {u.get('decisions', 0)} decisions, {u.get('llm_calls', 0)} model calls, "
            f"{u.get('cache_hits', 0)} answered from the cache ({llm_cache_dir()} by default)",
            highlight=False,
        )
    out.print(
        f"{outcome.ran} cells run, {outcome.reused} reused in {outcome.folder} "
        f"({outcome.seconds:.1f} s); report: {report}",
        highlight=False,
    )
    return 0
