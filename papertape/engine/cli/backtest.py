"""``papertape backtest`` and ``papertape run``: replay data through strategies and report."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from papertape.engine.cli.options import add_strategy_dir_option, key_value
from papertape.engine.cli.report import dumps, iso, print_table, result_json
from papertape.engine.config import RunConfig, load_config, parse_config
from papertape.engine.errors import ConfigError, RunInterrupted
from papertape.engine.session import run_session

__all__ = ["config_from_args", "register"]

BACKTEST_HELP = """\
Replay a data file through one strategy and print its metrics.

Either give a TOML config (the same format as `papertape run`), or describe the run with
options. Orders decided on a bar's close fill at the next bar's open (see the README's
fill conventions). Examples:

  papertape backtest --data sp500_daily.csv --strategy sma_cross --param fast=20 --param slow=100
  papertape backtest --data my.csv --strategy rsi_reversion --fees-bps 5 --slippage-bps 2 --json
  papertape backtest configs/demo.toml --json
"""

RUN_HELP = """\
Run a session described by a TOML config: data, strategies with their sizers and shields,
execution costs, portfolio-level shields and the journal. Start with configs/demo.toml.
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``backtest`` and ``run`` subcommands."""
    bt = sub.add_parser(
        "backtest",
        help="replay a data file through a strategy and print metrics",
        description=BACKTEST_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    bt.add_argument("config", nargs="?", help="TOML run config (optional)")
    bt.add_argument(
        "--data",
        action="append",
        metavar="FILE",
        help="CSV/Parquet OHLCV or trades file (repeat for several symbols)",
    )
    bt.add_argument(
        "--symbol",
        action="append",
        metavar="NAME",
        help="symbol name for each --data (default: the file name)",
    )
    bt.add_argument(
        "--timeframe", metavar="TF", help="aggregate trades files into bars (1m, 5m, 1h, 1d)"
    )
    bt.add_argument(
        "--strategy", metavar="NAME", help="registered strategy name (see `papertape strategies`)"
    )
    bt.add_argument(
        "--param",
        action="append",
        type=key_value,
        default=[],
        metavar="K=V",
        help="strategy parameter (repeatable)",
    )
    bt.add_argument(
        "--sizer",
        default="fraction",
        metavar="NAME",
        help="position sizer: fixed, fraction, vol_target, kelly (default: fraction)",
    )
    bt.add_argument(
        "--sizer-param",
        action="append",
        type=key_value,
        default=[],
        metavar="K=V",
        help="sizer parameter, e.g. fraction=0.5 (repeatable)",
    )
    bt.add_argument("--cash", type=float, default=100_000.0, help="initial cash (default 100000)")
    bt.add_argument(
        "--fees-bps",
        type=float,
        default=0.0,
        metavar="X",
        help="fee in basis points of notional, maker and taker (default 0)",
    )
    bt.add_argument(
        "--slippage-bps",
        type=float,
        default=0.0,
        metavar="Y",
        help="fixed slippage in basis points on market/stop fills (default 0)",
    )
    bt.add_argument(
        "--fill-at",
        choices=["next_open", "next_close"],
        default="next_open",
        help="when a market order fills (default: next bar's open)",
    )
    bt.add_argument(
        "--account",
        choices=["cash", "margin"],
        default="cash",
        help="buying power: cash (default; no borrowing, no shorts) or margin "
        "(see docs/execution.md)",
    )
    bt.add_argument(
        "--max-leverage",
        type=float,
        default=2.0,
        metavar="L",
        help="margin account: gross exposure at most L x equity (default 2)",
    )
    _common(bt)
    bt.set_defaults(handler=_backtest)

    run = sub.add_parser(
        "run",
        help="run a session from a TOML config (start with configs/demo.toml)",
        description=RUN_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("config", nargs="?", help="TOML run config, e.g. configs/demo.toml")
    run.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="continue an interrupted run from its journal folder (journals/<run-id>): the run "
        "is re-executed, checked event by event against the journal, and finished",
    )
    run.add_argument(
        "--tui",
        action="store_true",
        help="watch the run in the terminal monitor; the engine runs in a process of its own, "
        "space pauses it, + - set its pace, q stops it resumably; replay or live "
        "(needs papertape[tui]; docs/monitor.md)",
    )
    run.add_argument(
        "--metrics-port",
        type=int,
        metavar="P",
        help="serve Prometheus metrics on 127.0.0.1:P while the run goes on; with --tui the "
        "monitor's process serves them from the journal and telemetry it follows, live "
        "sessions included (papertape[tui])",
    )
    _common(run)
    run.set_defaults(handler=_run)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--no-journal", action="store_true", help="do not write a journal")
    p.add_argument("--journal-dir", metavar="DIR", help="journal folder (default: journals/)")
    add_strategy_dir_option(p)


def _with_overrides(config: RunConfig, args: argparse.Namespace) -> RunConfig:
    data: dict[str, Any] = config.canonical()
    if args.journal_dir:
        data["journal"]["dir"] = args.journal_dir
    if args.no_journal:
        data["journal"]["enabled"] = False
    if args.strategy_dir:
        data["plugins"]["strategy_dirs"] = [*data["plugins"]["strategy_dirs"], *args.strategy_dir]
    return parse_config(data, config.base_dir)


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """Turn ``backtest`` options into a validated config (same checks as a TOML file)."""
    if not args.data:
        raise ConfigError("--data", None, "give a data file (or a config file)")
    if not args.strategy:
        raise ConfigError("--strategy", None, "give a strategy name (see `papertape strategies`)")
    symbols = args.symbol or []
    if len(symbols) > len(args.data):
        raise ConfigError("--symbol", symbols, "more --symbol than --data options")
    data = [
        {
            "path": str(Path(p)),
            "symbol": symbols[i] if i < len(symbols) else None,
            "timeframe": args.timeframe,
        }
        for i, p in enumerate(args.data)
    ]
    raw = {
        "run": {"name": args.strategy, "initial_cash": args.cash},
        "data": data,
        "execution": {
            "maker_bps": args.fees_bps,
            "taker_bps": args.fees_bps,
            "fill_at": args.fill_at,
            "slippage": {"bps": args.slippage_bps},
        },
        "account": {"type": args.account, "max_leverage": args.max_leverage},
        "strategies": [
            {
                "name": args.strategy,
                "params": dict(args.param),
                "sizer": {"name": args.sizer, **dict(args.sizer_param)},
            }
        ],
    }
    return parse_config(raw, Path.cwd())


def _interrupted(exc: RunInterrupted, run_dir: Path | None, by: str = "Ctrl-C") -> RunInterrupted:
    """The Ctrl-C (or quit) report with what was done and the command that continues it."""
    when = f" (market time {iso(exc.time)})" if exc.time else ""
    if run_dir is None:
        tail = "no journal was written, so it cannot be resumed"
    else:
        tail = (
            f"its journal {run_dir} is consistent up to there; continue with:\n"
            f"  papertape run --resume {run_dir}"
        )
    return RunInterrupted(
        f"interrupted by {by}: stopped cleanly after step {exc.step:,}{when}; {tail}",
        exc.step,
        exc.time,
    )


def _execute(config: RunConfig, args: argparse.Namespace) -> int:
    config = _with_overrides(config, args)
    port = getattr(args, "metrics_port", None)
    if port is not None and config.run.mode == "live":
        raise ConfigError("--metrics-port", port, "not available for live sessions yet")
    try:
        if port is not None:
            from papertape.monitor.metrics import run_with_metrics

            result = run_with_metrics(config, port)
        else:
            result = run_session(config)
    except RunInterrupted as exc:
        raise _interrupted(exc, Path(exc.run_dir) if exc.run_dir else None) from None
    if args.json:
        print(dumps(result_json(result)))
    else:
        print_table(result, Console())
    return 0


def _backtest(args: argparse.Namespace) -> int:
    config = load_config(args.config) if args.config else config_from_args(args)
    return _execute(config, args)


def _run(args: argparse.Namespace) -> int:
    if args.resume:
        if args.config:
            raise ConfigError("--resume", args.resume, "give a config or --resume, not both")
        from papertape.engine.journal.replay import resume_session

        try:
            resumed = resume_session(args.resume)
        except RunInterrupted as exc:
            raise _interrupted(exc, Path(args.resume)) from None
        if args.json:
            print(dumps(result_json(resumed.session)))
        else:
            print_table(resumed.session, Console())
            damaged = (
                f", {len(resumed.damaged)} damaged journal line(s) skipped "
                f"(line {', '.join(map(str, resumed.damaged))})"
                if resumed.damaged
                else ""
            )
            if resumed.rewritten:
                damaged += f", {resumed.rewritten:,} event(s) whose line was damaged rewritten"
            Console(stderr=True).print(
                f"resumed: {resumed.verified:,} journaled events reproduced, "
                f"{resumed.appended:,} appended{damaged}",
                highlight=False,
            )
        return 0
    if not args.config:
        raise ConfigError("config", None, "give a TOML config (or --resume RUN_DIR)")
    if args.tui:
        from papertape.engine.cli.monitor import run_with_monitor

        try:
            watched = run_with_monitor(
                _with_overrides(load_config(args.config), args), args.metrics_port
            )
        except RunInterrupted as exc:
            where = Path(exc.run_dir) if exc.run_dir else None
            raise _interrupted(exc, where, "quitting the monitor") from None
        if watched is not None:
            if args.json:
                print(dumps(result_json(watched)))
            else:
                print_table(watched, Console())
        return 0
    return _execute(load_config(args.config), args)
