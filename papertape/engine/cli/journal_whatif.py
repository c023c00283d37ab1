"""``papertape journal whatif``: slot A trades slot B's (or a live strategy's) decisions."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from papertape.engine.cli.journal_replay import _ROWS, _clean, _swaps
from papertape.engine.cli.report import day_text

if TYPE_CHECKING:
    from papertape.analysis.journal.whatif import TradeRow

__all__ = ["add_whatif"]

DESCRIPTION = """\
What if slot A had traded slot B's decisions? Replays the run from its journal twice (no model
and no strategy is called): unchanged, and with A served B's recorded decisions between --from
and --to (its own outside; decisions are target positions, so A keeps what it holds when the
window opens until B's next decision moves it). Costs, sizers and shields are the recorded ones.

B may also be a strategy run live in A's slot inside the window: strategy:NAME (its default
parameters) or config:PATH#SLOT (that config slot's strategy and parameters; #SLOT may be left
out when the config has one strategy or a slot named A). It is built and decides for real on
every snapshot in the window (an LLM trader asks its model, or its cache); outside the window
A replays its own recorded decisions, with its recorded sizer, shields and cash.

Prints each slot's metrics, recorded vs what-if and the difference, then A's round trips that
changed (only in the recorded run: "-", only in the what-if: "+"); round trips with the same
times but another size (a sizer working from other equity) are summed on one line.

  papertape journal whatif journals/demo-2efb7c9c8a1d --swap sma_50_200=sma_20_100 \\
      --from 2008-01-01 --to 2008-12-31
  papertape journal whatif journals/demo-2efb7c9c8a1d --swap sma_20_100=strategy:buy_and_hold \
      --from 2008-01-01 --to 2008-12-31
  papertape journal whatif journals/demo-2efb7c9c8a1d \
      --swap sma_20_100=config:configs/llm-local.toml#gemma_moderate \
      --from 2008-01-01 --to 2008-03-31
"""


def add_whatif(cmds: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``journal whatif`` to the journal command group."""
    p = cmds.add_parser(
        "whatif",
        help="slot A trades slot B's recorded decisions (or a live strategy) in a window",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument(
        "--swap",
        action="append",
        required=True,
        metavar="A=B",
        help="B: a recorded slot, strategy:NAME or config:PATH#SLOT; repeatable; required",
    )
    p.add_argument("--from", dest="start", metavar="DATE", help="window start (ISO, UTC)")
    p.add_argument("--to", dest="end", metavar="DATE", help="window end, inclusive (ISO, UTC)")
    p.add_argument("--out", metavar="DIR", help="folder for the what-if replay's journal")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=_whatif)


def _signed(fmt: str, recorded: Any, whatif: Any) -> str:
    """``whatif - recorded`` in the metric's format, with its sign ("-" when undefined)."""
    if _clean(recorded) is None or _clean(whatif) is None:
        return "-"
    diff = whatif - recorded
    text = fmt.format(abs(diff))
    return ("-" if diff < 0 else "+") + text


def _trade(t: TradeRow) -> dict[str, Any]:
    return {
        "strategy": t.strategy,
        "symbol": t.symbol,
        "side": t.side,
        "qty": t.qty,
        "entry_time": t.entry_time,
        "exit_time": t.exit_time,
        "entry_price": t.entry_price,
        "exit_price": t.exit_price,
        "pnl": t.pnl,
    }


def _whatif(args: argparse.Namespace) -> int:
    from papertape.analysis.journal.whatif import live_target, parse_when, what_if

    start, end = parse_when(args.start), parse_when(args.end, end=True)
    result = what_if(args.run_dir, _swaps(args.swap), start=start, end=end, out=args.out)
    keys = [key for _, key, _ in _ROWS]
    if args.json:
        slots = {
            sid: {
                "recorded": {k: _clean(result.recorded[sid][k]) for k in keys},
                "whatif": {k: _clean(result.replayed[sid][k]) for k in keys},
                "difference": {k: _clean(result.difference(sid, k)) for k in keys},
            }
            for sid in result.recorded
        }
        report = {
            "swap": result.swap,
            "window": list(result.window),
            "slots": slots,
            "removed": [_trade(t) for t in result.removed],
            "added": [_trade(t) for t in result.added],
            "resized": [{"recorded": _trade(a), "whatif": _trade(b)} for a, b in result.resized],
            "journal": str(result.journal),
        }
        print(json.dumps(report, indent=2))
        return 0
    console = Console()
    window = f"{args.start or 'start'} .. {args.end or 'end'}"
    swaps = ", ".join(f"{a} takes {b}" for a, b in result.swap.items())
    for sid in result.swap:  # the other slots trade as recorded (their figures are in --json)
        table = Table(title=f"{sid}: recorded vs what-if ({swaps}, {window})", title_justify="left")
        for col in ("metric", "recorded", "what-if", "difference"):
            table.add_column(col, justify="left" if col == "metric" else "right")
        for label, key, fmt in _ROWS:
            a, b = result.recorded[sid][key], result.replayed[sid][key]
            cells = ["-" if _clean(v) is None else fmt.format(v) for v in (a, b)]
            cells.append(_signed(fmt, a, b))
            table.add_row(label, *cells)
        console.print(table)
    changed = Table(title="round trips that changed", title_justify="left")
    for col in ("", "slot", "symbol", "side", "qty", "entry", "exit", "entry px", "exit px", "P&L"):
        changed.add_column(col, justify="right" if col in ("qty", "P&L") else "left")
    for mark, rows in (("-", result.removed), ("+", result.added)):
        for t in rows:
            changed.add_row(
                mark,
                t.strategy,
                t.symbol,
                "long" if t.side > 0 else "short",
                f"{t.qty:,.4g}",
                day_text(t.entry_time),
                day_text(t.exit_time),
                f"{t.entry_price:,.2f}",
                f"{t.exit_price:,.2f}",
                f"{t.pnl:+,.2f}",
            )
    console.print(changed if changed.row_count else "no round trip opened or closed differently")
    if result.resized:
        delta = sum(b.pnl - a.pnl for a, b in result.resized)
        console.print(
            f"{len(result.resized)} round trip(s) kept their times but changed size "
            f"(the sizer saw other equity): P&L {delta:+,.2f} in all (--json lists them)",
            highlight=False,
        )
    live = [f"{a}={b}" for a, b in result.swap.items() if live_target(a, b) is not None]
    ran = f"ran live in the window: {', '.join(live)}" if live else "no model called"
    console.print(f"what-if journal: {result.journal} · {ran}", highlight=False)
    return 0
