"""``papertape journal stats``: P&L by trader, action, symbol, regime and time; attribution."""

from __future__ import annotations

import argparse
import json

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from papertape.engine.cli.report import day_text

__all__ = ["add_stats"]

DESCRIPTION = """\
Where a run's P&L came from, read from its journal (no replay, no model):

  * round trips (net of fees) by trader, action (long/short), symbol, regime at entry,
    UTC hour and weekday of the close;
  * decision attribution: each decision's mark-to-market P&L until the next decision of the
    same slot and symbol ("earned") against keeping the position it held when it decided
    ("holding"); edge = earned - holding (docs/journal.md defines it exactly);
  * LLM traders: stated confidence against whether the trade it opened made money (Brier,
    ECE, reliability table), invalid decisions by reason code and month;
  * shield trips and vetoes, and what each veto and each halt's cut saved or cost: the
    position kept out of the book, marked until the slot's next decision or the shield's
    re-arming (positive = saved; docs/journal.md).

  papertape journal stats journals/demo-2efb7c9c8a1d
  papertape journal stats journals/demo-2efb7c9c8a1d --from 2008-01-01 --to 2008-12-31
  papertape journal stats journals/demo-2efb7c9c8a1d --top 10 --json > stats.json

With --from/--to, round trips count by their closing date and decisions by theirs (each
still measured up to its next decision); an LLM decision's outcome counts whenever it closed.
"""


def add_stats(cmds: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``journal stats`` to the journal command group."""
    p = cmds.add_parser(
        "stats",
        help="P&L by trader/action/symbol/regime/time, decision attribution, calibration",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument(
        "--top", type=int, default=5, metavar="N", help="best and worst N decisions (default 5)"
    )
    p.add_argument(
        "--no-attribution",
        action="store_true",
        help="skip decision attribution (it loads the run's data files)",
    )
    p.add_argument("--from", dest="start", metavar="DATE", help="only from this date (ISO, UTC)")
    p.add_argument("--to", dest="end", metavar="DATE", help="only to this date, inclusive")
    p.add_argument("--bins", type=int, default=10, help="reliability table bins (default 10)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=_stats)


def _table(title: str, columns: tuple[str, ...]) -> Table:
    table = Table(title=title, title_justify="left")
    for i, col in enumerate(columns):
        table.add_column(col, justify="left" if i == 0 or col == "reason" else "right")
    return table


def _stats(args: argparse.Namespace) -> int:
    from papertape.analysis.journal.stats import journal_stats
    from papertape.analysis.journal.whatif import parse_when

    stats = journal_stats(
        args.run_dir,
        attribute=not args.no_attribution,
        bins=args.bins,
        start=parse_when(args.start),
        end=parse_when(args.end, end=True),
    )
    if args.json:
        print(json.dumps(stats.to_json(), indent=2))
        return 0
    console = Console()
    for dim, groups in stats.by.items():
        if not groups:
            continue
        table = _table(f"P&L by {dim}", (dim, "trades", "win rate", "P&L"))
        for key, g in groups.items():
            table.add_row(key, str(g.trades), f"{g.wins / g.trades:.0%}", f"{g.pnl:+,.2f}")
        console.print(table)
    if stats.attribution:
        table = _table("decisions vs holding", ("trader", "decisions", "earned", "holding", "edge"))
        for sid, row in stats.edge_by_strategy().items():
            table.add_row(
                sid,
                str(int(row["decisions"])),
                f"{row['earned']:+,.2f}",
                f"{row['holding']:+,.2f}",
                f"{row['edge']:+,.2f}",
            )
        console.print(table)
        ranked = sorted(stats.attribution, key=lambda a: a.edge)
        picks = ranked[: args.top] + [a for a in ranked[-args.top :] if a not in ranked[: args.top]]
        table = _table(
            f"worst and best {args.top} decisions by edge",
            ("time", "trader", "symbol", "target", "held", "earned", "holding", "edge", "reason"),
        )
        for a in picks:
            table.add_row(
                day_text(a.time),
                a.strategy,
                a.symbol,
                a.target,
                f"{a.held:,.4g}",
                f"{a.earned:+,.2f}",
                f"{a.holding:+,.2f}",
                f"{a.edge:+,.2f}",
                escape(a.reason[:40]),
            )
        console.print(table)
    if stats.attribution_note:
        console.print(stats.attribution_note, markup=False, highlight=False)
    for sid, cal in stats.calibration.items():
        table = _table(
            f"{sid}: confidence vs outcome ({cal.decisions} decisions, "
            f"Brier {cal.brier:.3f}, ECE {cal.ece:.3f})",
            ("confidence bin", "decisions", "mean confidence", "hit rate"),
        )
        for b in cal.table:
            mean, hit = b["mean_confidence"], b["hit_rate"]
            table.add_row(
                f"{b['lower']:.1f}-{b['upper']:.1f}",
                str(b["count"]),
                "-" if mean is None else f"{mean:.2f}",
                "-" if hit is None else f"{hit:.0%}",
            )
        console.print(table)
    for sid, bands in stats.reasoning_length.items():
        table = _table(
            f"{sid}: reasoning length vs outcome", ("characters", "decisions", "won", "P&L")
        )
        for b in bands:
            table.add_row(
                f"{b['shortest']}-{b['longest']}",
                str(b["decisions"]),
                str(b["wins"]),
                f"{b['pnl']:+,.2f}",
            )
        console.print(table)
    for sid, reasons in stats.invalid.items():
        text = ", ".join(f"{k} {n}" for k, n in sorted(reasons.items()))
        console.print(f"{sid}: invalid decisions (forced HOLD): {text}", markup=False)
    for sid, used in stats.memory.items():
        console.print(
            f"{sid}: {used['decisions']} decisions recalled {used['recalled']} past situations "
            f"({used['distinct']} distinct; ids in each llm_decision's memory)",
            markup=False,
            highlight=False,
        )
    for key, n in {**stats.shield_trips, **stats.vetoes}.items():
        what = "trips" if key in stats.shield_trips else "vetoes"
        console.print(f"shield {what}: {key}: {n}", markup=False, highlight=False)
    if stats.shield_effects:
        table = _table(
            "what the shields saved (+) or cost (-)", ("shield", "vetoes", "cuts", "saved")
        )
        for key, row in stats.shield_saved().items():
            table.add_row(
                key, str(int(row["vetoes"])), str(int(row["cuts"])), f"{row['saved']:+,.2f}"
            )
        console.print(table)
        table = _table(
            f"largest {args.top} shield actions",
            ("time", "trader", "shield", "action", "symbol", "qty", "until", "saved"),
        )
        for e in sorted(stats.shield_effects, key=lambda e: -abs(e.saved))[: args.top]:
            table.add_row(
                day_text(e.time),
                e.strategy,
                e.shield,
                e.action,
                e.symbol,
                f"{e.qty:+,.4g}",
                day_text(e.until),
                f"{e.saved:+,.2f}",
            )
        console.print(table)
    return 0
