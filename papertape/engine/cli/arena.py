"""``papertape arena``: traders and baselines on one tape, over windows, with a leaderboard."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from papertape.engine.cli.report import dumps

__all__ = ["register"]

ARENA_HELP = """\
Run an arena: every [[strategies]] entry of CONFIG (LLM traders, rule-based and drop-in
strategies) plus the baselines (buy-and-hold, always-flat, a seeded random trader on the LLM
traders' schedule) trade one identical tape with identical costs, fills, sizer and shields,
each in its own portfolio, over one or more disjoint windows (each with warm-up history), and
optionally on a blind tape (rebased prices, shifted dates, hidden ticker).

Prints a leaderboard per variant (return before/after fees, Sharpe, Sortino, Calmar, drawdown,
trades, win rate, profit factor, time long/short/flat, and for LLM traders decisions, invalid
and abstained decisions, confidence, calibration, tokens, cost, latency) and, per contestant,
the Sharpe difference to the best baseline with a bootstrap interval and a family-wise
corrected verdict. The run folder (arena.json, one journal per window) feeds `papertape report`.

Windows are independent sessions: --workers N runs N of them side by side in local processes,
--ray runs them as Ray tasks (the executor of `papertape sweep`); the data is loaded once and
shared, LLM traders share one answer cache, and the leaderboard, arena.json and every journal
are the same bytes at any worker count whenever the traders get the same answers (always from
a warm cache). Each worker loads its own copy of a local model.

  papertape arena configs/arena.toml
  papertape arena configs/arena.toml --windows 5 --json
  papertape arena configs/arena.toml --report arena.html
  papertape arena configs/arena.toml --tui     # watch each window and the leaderboard
  papertape arena configs/arena.toml --windows 4 --workers 2
  papertape arena configs/arena.toml --ray auto
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``arena`` subcommand."""
    p = sub.add_parser(
        "arena",
        help="run traders and baselines side by side and rank them honestly",
        description=ARENA_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("config", help="TOML run config with an [arena] section")
    p.add_argument("--json", action="store_true", help="print the leaderboards as one JSON object")
    p.add_argument("--report", metavar="FILE.html", help="also write the HTML report")
    p.add_argument(
        "--windows", type=int, metavar="N", help="N equal windows (overrides [arena] windows)"
    )
    p.add_argument(
        "--tui",
        action="store_true",
        help="watch the arena in the terminal monitor: the window being played, its traders "
        "side by side, and the leaderboard of the windows done (papertape[tui]; docs/monitor.md)",
    )
    p.add_argument(
        "--metrics-port",
        type=int,
        metavar="P",
        help="with --tui: serve Prometheus metrics of the arena on 127.0.0.1:P while it runs",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="run N windows at a time in local processes (default 1: one after another)",
    )
    where.add_argument(
        "--ray",
        metavar="auto|ADDRESS",
        help="run the windows as Ray tasks: auto (ray.init()) or a cluster address",
    )
    p.set_defaults(handler=_arena)


def _arena(args: argparse.Namespace) -> int:
    from papertape.arena import arena_document, load_arena_config, run_arena, write_arena
    from papertape.engine.errors import ConfigError

    if args.windows is not None and args.windows < 1:
        raise ConfigError("--windows", args.windows, "must be >= 1")
    if args.workers < 1:
        raise ConfigError("--workers", args.workers, "must be >= 1")
    config = load_arena_config(args.config)
    t0 = time.perf_counter()
    if args.metrics_port is not None and not args.tui:
        raise ConfigError(
            "--metrics-port", args.metrics_port, "serves the monitor's metrics: add --tui"
        )
    if args.tui and (args.workers > 1 or args.ray is not None):
        raise ConfigError("--tui", "--workers/--ray", "the monitor follows windows run here")
    err = Console(stderr=True)
    if args.tui:
        from papertape.engine.cli.monitor import arena_with_monitor

        watched = arena_with_monitor(config, args.windows, args.metrics_port)
        if watched is None:
            return 0
        folder, summary, skipped, sessions = watched
        doc: dict[str, Any] | None = None
    else:
        run = run_arena(config, windows=args.windows, workers=args.workers, ray=args.ray)
        doc = arena_document(run)
        folder = write_arena(doc, config.run.journal.dir)
        summary = doc["summary"]
        skipped, sessions = list(run.skipped), len(run.windows)
    for sid, why in skipped:
        err.print(f"skipped trader {sid}: {why}", highlight=False)
    if args.json:
        print(dumps(summary))
    else:
        from papertape.arena.render import print_arena

        print_arena(summary)
    if args.report:
        from papertape.analysis.report import write_report
        from papertape.arena import read_arena

        out = write_report(doc if doc is not None else read_arena(folder), Path(args.report))
        err.print(f"report: {out}", highlight=False)
    err.print(
        f"arena: {folder} · {sessions} sessions in {time.perf_counter() - t0:.1f}s",
        highlight=False,
    )
    return 0
