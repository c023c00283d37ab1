"""``papertape journal replay``: re-run a recorded session from its decisions, without models."""

from __future__ import annotations

import argparse
import json
import math
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from papertape.engine.errors import ConfigError

__all__ = ["add_replay"]

DESCRIPTION = """\
Re-run a recorded session from the decisions in its journal. No model and no strategy is
called (every slot is a placeholder; an LLM trader's model is never loaded); sizers, shields
and the execution simulator run for real.

With no option the replay is compared byte for byte with the journal and the command says
"exact match" (exit 0) or shows the first differing event (exit 1). With --fees-bps,
--slippage-bps, --cash or --swap it prints the recorded and the replayed metrics side by side.
The recorded folder is only read; the replay's journal goes to --out (default: a temporary
folder, whose path is printed).
"""

_ROWS = (
    ("final equity", "final_equity", "{:,.2f}"),
    ("total return", "total_return", "{:.2%}"),
    ("Sharpe", "sharpe", "{:.2f}"),
    ("max drawdown", "max_drawdown", "{:.2%}"),
    ("trades", "trades", "{:d}"),
    ("fees", "fees", "{:,.2f}"),
)


def add_replay(cmds: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``journal replay`` to the journal command group."""
    p = cmds.add_parser(
        "replay",
        help="re-run a run from its recorded decisions (exact check, or other costs)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--fees-bps", type=float, metavar="X", help="maker and taker fee, in bps")
    p.add_argument("--slippage-bps", type=float, metavar="Y", help="slippage in bps")
    p.add_argument("--cash", type=float, metavar="C", help="initial cash of every strategy")
    p.add_argument(
        "--swap",
        action="append",
        default=[],
        metavar="A=B",
        help="slot A takes the recorded decisions of slot B (what-if; repeatable)",
    )
    p.add_argument("--out", metavar="DIR", help="folder for the replay's journal")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=_replay)


def _swaps(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        a, sep, b = item.partition("=")
        if not sep or not a or not b:
            raise ConfigError("--swap", item, "write it as SLOT=RECORDED_SLOT")
        out[a] = b
    return out


def _clean(x: Any) -> Any:
    return None if isinstance(x, float) and not math.isfinite(x) else x


def _replay(args: argparse.Namespace) -> int:
    from papertape.engine.journal.replay.rerun import metrics_row, replay_run

    if args.fees_bps is not None and args.fees_bps < 0:
        raise ConfigError("--fees-bps", args.fees_bps, "must be >= 0")
    if args.slippage_bps is not None and args.slippage_bps < 0:
        raise ConfigError("--slippage-bps", args.slippage_bps, "must be >= 0")
    if args.cash is not None and not args.cash > 0:
        raise ConfigError("--cash", args.cash, "must be > 0")
    swap = _swaps(args.swap)
    changes = {
        k: v
        for k, v in (
            ("fees_bps", args.fees_bps),
            ("slippage_bps", args.slippage_bps),
            ("cash", args.cash),
        )
        if v is not None
    }
    if swap:
        changes["swap"] = swap
    if not changes:
        result = replay_run(args.run_dir, out=args.out)
        if args.json:
            print(
                json.dumps(
                    {
                        "exact": result.exact,
                        "difference": result.difference,
                        "events": result.session.event_counts,
                        "journal": str(result.journal),
                    },
                    indent=2,
                )
            )
        elif result.exact:
            n = sum(result.session.event_counts.values())
            print(f"exact match: {n:,} events replayed byte for byte, no model called")
        else:
            print(f"the replay differs from the journal: {result.difference}")
        return 0 if result.exact else 1
    with tempfile.TemporaryDirectory(prefix="papertape-replay-") as scratch:
        recorded = replay_run(args.run_dir, out=Path(scratch) / "recorded")
    replayed = replay_run(
        args.run_dir,
        fees_bps=args.fees_bps,
        slippage_bps=args.slippage_bps,
        cash=args.cash,
        swap=swap,
        out=args.out,
    )
    before, after = metrics_row(recorded.session), metrics_row(replayed.session)
    if args.json:
        report = {
            "changes": changes,
            "recorded_exact": recorded.exact,
            "journal": str(replayed.journal),
            "strategies": {
                sid: {
                    "recorded": {k: _clean(v) for k, v in before[sid].items()},
                    "replayed": {k: _clean(v) for k, v in after[sid].items()},
                }
                for sid in before
            },
        }
        print(json.dumps(report, indent=2))
        return 0
    console = Console()
    if not recorded.exact:
        console.print(
            f"warning: the unchanged replay differs from the journal: {recorded.difference}"
        )
    title = ", ".join(f"{k}={v}" for k, v in changes.items())
    for sid in before:
        table = Table(title=f"{sid}: recorded vs replayed ({title})", title_justify="left")
        for col in ("metric", "recorded", "replayed"):
            table.add_column(col, justify="left" if col == "metric" else "right")
        for label, key, fmt in _ROWS:
            cells = [before[sid][key], after[sid][key]]
            table.add_row(label, *("-" if _clean(v) is None else fmt.format(v) for v in cells))
        console.print(table)
    console.print(f"replay journal: {replayed.journal} · no model called", highlight=False)
    return 0
