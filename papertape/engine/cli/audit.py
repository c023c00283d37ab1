"""``papertape audit lookahead``: does any decision change when the future is cut off?"""

from __future__ import annotations

import argparse
import json
from typing import Any

from rich.console import Console

from papertape.engine.cli.options import add_strategy_dir_option, key_value
from papertape.engine.cli.report import day_text

__all__ = ["register"]

LOOKAHEAD_HELP = """\
Check a strategy (built-in, drop-in or LLM trader) for look-ahead: run it once on all the
data, then again with the data cut after each of --points sampled bars, and compare what it
decided on every bar up to the cut, including the bars where it decided nothing (an LLM
trader's prompts are compared too). A decision that appears, disappears or changes means it
used data from after its bar. Exit status 0: clean; 1: look-ahead found (the first differing
bar of each cut is shown with its inputs).

Only the data the engine hands the strategy is cut: code that reads files or the network by
itself is not covered. No journal is written.

  papertape audit lookahead configs/demo.toml --points 10
  papertape audit lookahead --data my.csv --strategy my_strategy --param window=20
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``audit`` command group."""
    p = sub.add_parser("audit", help="check strategies for look-ahead")
    cmds = p.add_subparsers(dest="audit_command", metavar="CHECK", required=True)
    la = cmds.add_parser(
        "lookahead",
        help="re-run with the data cut at sampled bars; every decision must stay the same",
        description=LOOKAHEAD_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    la.add_argument("config", nargs="?", help="TOML run config (or --data and --strategy)")
    la.add_argument("--data", action="append", metavar="FILE", help="data file (repeatable)")
    la.add_argument("--symbol", action="append", metavar="NAME", help="symbol of each --data")
    la.add_argument("--strategy", metavar="NAME", help="registered or drop-in strategy name")
    la.add_argument(
        "--param", action="append", type=key_value, default=[], metavar="K=V", help="parameter"
    )
    add_strategy_dir_option(la)
    la.add_argument("--points", type=int, default=8, metavar="N", help="cuts to sample (8)")
    la.add_argument("--seed", type=int, default=0, help="seed of the sample (0)")
    la.add_argument("--json", action="store_true", help="print one JSON object")
    la.set_defaults(
        handler=_lookahead,
        timeframe=None,
        sizer="fraction",
        sizer_param=[],
        cash=100_000.0,
        fees_bps=0.0,
        slippage_bps=0.0,
        fill_at="next_open",
        account="cash",
        max_leverage=2.0,
        journal_dir=None,
        no_journal=True,
    )


def _plain(facts: list[tuple[Any, ...]]) -> list[Any]:
    return [list(f) for f in facts]


def _describe(facts: list[tuple[Any, ...]]) -> str:
    """``signal target=long, reason='up'`` for each fact (``nothing`` when none)."""
    parts = []
    for kind, *pairs in facts:
        if kind == "llm_decision":
            parts.append(f"LLM prompt {pairs[0][:12]}")
            continue
        shown = ", ".join(f"{k}={v!r}" for k, v in pairs if v is not None)
        parts.append(f"{kind} {shown}")
    return "; ".join(parts) or "nothing"


def _lookahead(args: argparse.Namespace) -> int:
    from papertape.analysis.lookahead import audit_lookahead
    from papertape.engine.cli.backtest import _with_overrides, config_from_args
    from papertape.engine.config import load_config

    config = load_config(args.config) if args.config else config_from_args(args)
    config = _with_overrides(config, args)
    report = audit_lookahead(config, points=args.points, seed=args.seed)
    if args.json:
        out = {
            "clean": report.clean,
            "cuts": report.cuts,
            "bars_checked": report.bars_checked,
            "findings": [
                {
                    "cut": f.cut,
                    "strategy": f.strategy,
                    "time": f.time,
                    "symbol": f.symbol,
                    "full": _plain(f.full),
                    "cut_run": _plain(f.cut_run),
                    "bar": f.bar,
                }
                for f in report.findings
            ],
        }
        print(json.dumps(out, indent=2, default=str))
        return 0 if report.clean else 1
    console = Console(markup=False)  # reasons may hold [brackets]
    n = len(report.cuts)
    if report.clean:
        console.print(
            f"clean: {n} cuts, {report.bars_checked:,} bars re-decided by every slot "
            "(silent bars included), no decision changed",
            highlight=False,
        )
        return 0
    console.print(f"look-ahead found at {len(report.findings)} of {n} cuts:", highlight=False)
    for f in report.findings:
        console.print(
            f"  cut {day_text(f.cut)}: {f.strategy} on {f.symbol} {day_text(f.time)}\n"
            f"    bar: {', '.join(f'{k} {v:,.6g}' for k, v in f.bar.items())}\n"
            f"    with all the data: {_describe(f.full)}\n"
            f"    data cut there:    {_describe(f.cut_run)}",
            highlight=False,
        )
    return 1
