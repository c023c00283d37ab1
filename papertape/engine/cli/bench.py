"""``papertape bench``: throughput and memory of the full replay pipeline."""

from __future__ import annotations

import argparse
import json

from rich.console import Console
from rich.table import Table

from papertape.engine.bench import run_bench, run_flip_bench
from papertape.engine.errors import ConfigError

__all__ = ["register"]

HELP = """\
Measure the replay pipeline end to end: per-bar snapshot, strategy call (SMA crossover),
sizer, shields (with --shields), execution with fees and slippage, portfolio marking and the
journal. Data is seeded synthetic 1-minute bars (or --data FILE). The same closes also run
through a bare Python loop doing only the SMA arithmetic; the ratio says what the engine's
machinery costs on top of the strategy's own work.

  papertape bench                               # 1,000,000 bars, 1 symbol, 1 strategy
  papertape bench --bars 100000 --symbols 10 --strategies 10 --json
  papertape bench --flip --bars 200000          # per-signal cost (flips every bar)
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``bench`` subcommand."""
    p = sub.add_parser(
        "bench",
        help="measure replay throughput and peak memory",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--bars", type=int, default=1_000_000, help="bars per symbol (default 1,000,000)"
    )
    p.add_argument("--symbols", type=int, default=1, help="number of symbols (default 1)")
    p.add_argument(
        "--strategies", type=int, default=1, help="SMA crossovers on every symbol (default 1)"
    )
    p.add_argument(
        "--shields",
        action="store_true",
        help="add a drawdown shield and an exposure cap per strategy",
    )
    p.add_argument("--data", metavar="FILE", help="use a data file instead of synthetic bars")
    p.add_argument("--seed", type=int, default=7, help="seed of the synthetic data")
    p.add_argument("--fast", type=int, default=20, help="fast SMA window (default 20)")
    p.add_argument("--slow", type=int, default=50, help="slow SMA window (default 50)")
    p.add_argument(
        "--flip",
        action="store_true",
        help="measure the cost of one signal (signal, order, fill, trade, journal): a strategy "
        "flipping every bar against one that never signals, on --bars bars",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=_bench)


def _bench(args: argparse.Namespace) -> int:
    for key in ("bars", "symbols", "strategies"):
        if getattr(args, key) < 1:
            raise ConfigError(f"--{key}", getattr(args, key), "must be >= 1")
    series = None
    if args.data:
        from papertape.engine.config import resolve_data_path
        from papertape.engine.feeds.loader import load_bars

        series = [load_bars(resolve_data_path(args.data))]
    if not 0 < args.fast < args.slow:
        raise ConfigError("--slow", args.slow, f"need 0 < --fast ({args.fast}) < --slow")
    if args.flip:
        flip = run_flip_bench(args.bars, args.seed)
        return _show(flip.as_dict(), args.json, "papertape bench --flip")
    res = run_bench(
        args.bars,
        args.symbols,
        args.strategies,
        args.seed,
        args.shields,
        series,
        args.fast,
        args.slow,
    )
    return _show(res.as_dict(), args.json, "papertape bench")


def _show(figures: dict[str, object], as_json: bool, title: str) -> int:
    if as_json:
        print(json.dumps(figures, indent=2))
        return 0
    table = Table(title=title, title_justify="left")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for k, v in figures.items():
        table.add_row(k, f"{v:,}" if isinstance(v, int | float) else str(v))
    Console().print(table)
    return 0
