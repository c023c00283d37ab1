"""``papertape journal search``: full-text search over reasoning and reasons (SQLite FTS5)."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from rich.console import Console

from papertape.engine.cli.report import day_text

if TYPE_CHECKING:
    from papertape.analysis.journal.search import SearchHit

__all__ = ["add_search"]

DESCRIPTION = """\
Search the reasoning of LLM decisions and the reasons of signals, vetoes and shield trips
(SQLite FTS5 with stemming, kept in the run's index.sqlite). Each hit is shown with its
decision, the fills of the orders it sent and the outcome (round trips those fills opened or
closed; an LLM decision's llm_outcome P&L).

The query is FTS5 syntax: words (all must match), "a phrase", AND / OR / NOT, prefix*.

  papertape journal search journals/demo-2efb7c9c8a1d "stop loss"
  papertape journal search journals/demo-2efb7c9c8a1d "volatil*" --trader llm_gemma --json
"""


def add_search(cmds: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``journal search`` to the journal command group."""
    p = cmds.add_parser(
        "search",
        help="full-text search over reasoning and reasons, with decisions, fills and outcomes",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("query", metavar="TEXT")
    p.add_argument("--trader", metavar="T", help="only this slot's events")
    p.add_argument("--limit", type=int, default=50, metavar="N", help="at most N hits (50)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=_search)


def _print(console: Console, hit: SearchHit) -> None:
    ev = hit.event
    head = f"#{ev['seq']} {day_text(int(ev['time']))} {ev.get('strategy', '')} {ev['kind']}"
    if ev["kind"] == "llm_decision":
        head += f" {ev.get('action', '')} ({ev.get('reason_code', '')})"
    console.print(head, style="bold", highlight=False)
    console.print(f"  {hit.snippet}", highlight=False)
    if hit.decision is not None:
        d = hit.decision
        console.print(
            f"  decision: {d['target']} {d['symbol']} ({d.get('order_type', 'market')})",
            highlight=False,
        )
    for f in hit.fills:
        side = "buy" if int(f["side"]) > 0 else "sell"
        console.print(
            f"  fill: {day_text(int(f['time']))} {side} {float(f['qty']):,.4g} @ "
            f"{float(f['price']):,.2f}",
            highlight=False,
        )
    for t in hit.trades:
        console.print(
            f"  round trip: {day_text(int(t['entry_time']))} -> {day_text(int(t['time']))} "
            f"P&L {float(t['pnl']):+,.2f}",
            highlight=False,
        )
    if hit.outcome_pnl is not None:
        console.print(f"  outcome: {hit.outcome_pnl:+,.2f}", highlight=False)


def _search(args: argparse.Namespace) -> int:
    from papertape.analysis.journal.search import search_journal

    hits = search_journal(args.run_dir, args.query, trader=args.trader, limit=args.limit)
    if args.json:
        report = {
            "query": args.query,
            "hits": [
                {
                    "event": h.event,
                    "snippet": h.snippet,
                    "decision": h.decision,
                    "fills": h.fills,
                    "trades": h.trades,
                    "outcome_pnl": h.outcome_pnl,
                }
                for h in hits
            ],
        }
        print(json.dumps(report, indent=2))
        return 0
    console = Console(markup=False)  # reasoning may hold [brackets]
    for hit in hits:
        _print(console, hit)
    console.print(f"{len(hits)} hit(s)", highlight=False)
    return 0
