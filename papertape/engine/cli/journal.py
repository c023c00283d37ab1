"""``papertape journal``: look into a run folder, rebuild its index, ship it to PostgreSQL."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from papertape.engine.cli.options import add_dsn_options, resolve_dsn
from papertape.engine.errors import JournalError
from papertape.engine.journal.jsonl import complete_size, decode_line, read_journal
from papertape.engine.journal.lock import is_live
from papertape.engine.journal.replay.state import JournalState, fold
from papertape.engine.journal.sqlite import INDEX_NAME, JournalIndex

__all__ = ["register"]

HELP = """\
Inspect and manage run folders (journals/<run-id>/: events.jsonl, index.sqlite, config.json,
manifest.json). A folder may belong to a run still going on; reading it is safe.

  papertape journal show journals/demo-1a2b3c4d5e6f
  papertape journal show journals/demo-1a2b3c4d5e6f --kind fill --strategy sma_50_200 --tail 20
  papertape journal index journals/demo-1a2b3c4d5e6f --rebuild
  papertape journal push journals/demo-1a2b3c4d5e6f --dsn postgresql://user@host/db
  papertape journal replay journals/demo-1a2b3c4d5e6f                 # exact re-run check
  papertape journal replay journals/demo-1a2b3c4d5e6f --fees-bps 20   # recorded vs replayed
  papertape journal whatif journals/demo-1a2b3c4d5e6f --swap A=B --from 2008-01-01
  papertape journal stats journals/demo-1a2b3c4d5e6f                  # P&L by ..., attribution
  papertape journal search journals/demo-1a2b3c4d5e6f "stop loss"     # reasoning, full text

Continue an interrupted run with `papertape run --resume RUN_DIR`.
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``journal`` command group."""
    p = sub.add_parser(
        "journal",
        help="inspect run folders, rebuild indexes, ship to PostgreSQL",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cmds = p.add_subparsers(dest="journal_command", metavar="ACTION", required=True)

    show = cmds.add_parser(
        "show",
        help="summarise a run: status, books per strategy, events",
        description="Summarise a run folder: its status, each strategy's "
        "cash, positions, trades and working orders as the journal tells "
        "them, and the last events (filtered with --kind/--strategy).",
    )
    show.add_argument("run_dir", metavar="RUN_DIR")
    show.add_argument("--kind", help="only events of this kind (fill, signal, order, trade...)")
    show.add_argument("--strategy", help="only events of this strategy id")
    show.add_argument(
        "--tail",
        type=int,
        default=10,
        metavar="N",
        help="how many of the last matching events to list (default 10)",
    )
    show.add_argument("--json", action="store_true", help="print one JSON object")
    show.set_defaults(handler=_show)

    index = cmds.add_parser(
        "index",
        help="bring the SQLite index up to date with the log",
        description="Index what the log holds beyond the SQLite index "
        "(or, with --rebuild, everything from scratch).",
    )
    index.add_argument("run_dir", metavar="RUN_DIR")
    index.add_argument("--rebuild", action="store_true", help="drop the index and rebuild it")
    index.set_defaults(handler=_index)

    push = cmds.add_parser(
        "push",
        help="ship a run's journal to PostgreSQL (idempotent)",
        description="Copy every event of the log into PostgreSQL "
        "(papertape.journal_events, trades, runs). Rows already there are "
        "skipped, so pushing twice changes nothing.",
    )
    push.add_argument("run_dir", metavar="RUN_DIR")
    add_dsn_options(push)
    push.add_argument(
        "--timeout",
        type=float,
        default=600.0,
        metavar="S",
        help="give up after S seconds without the database (default 600)",
    )
    push.set_defaults(handler=_push)

    from papertape.engine.cli.journal_replay import add_replay

    add_replay(cmds)

    from papertape.engine.cli.journal_whatif import add_whatif

    add_whatif(cmds)

    from papertape.engine.cli.journal_stats import add_stats

    add_stats(cmds)

    from papertape.engine.cli.journal_search import add_search

    add_search(cmds)


def _folder(path: str) -> Path:
    folder = Path(path)
    if not (folder / "events.jsonl").is_file():
        raise JournalError(f"{folder} is not a run folder (no events.jsonl)")
    return folder


def _initial_cash(folder: Path) -> dict[str, float]:
    try:
        cfg = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        default = float(cfg["run"]["initial_cash"])
        return {
            s.get("id") or s["name"]: float(s.get("initial_cash") or default)
            for s in cfg["strategies"]
        }
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _status(folder: Path) -> str:
    try:
        status = str(json.loads((folder / "manifest.json").read_text())["status"])
    except (OSError, ValueError, KeyError):
        return "unknown"
    if status == "running" and not is_live(folder):
        return "interrupted"  # killed or crashed: `papertape run --resume` continues it
    return status


def _writer_keeps_index(folder: Path) -> bool:
    """True while a process writes ``folder`` and keeps its index current (live sessions).

    Readers then leave the index to that writer; otherwise (a finished run, or a backtest
    whose writer leaves the index to its readers) they bring it up to date themselves.
    """
    if not is_live(folder):
        return False
    try:
        return bool(json.loads((folder / "manifest.json").read_text()).get("index_live", True))
    except (OSError, ValueError, AttributeError):
        return True


def _show(args: argparse.Namespace) -> int:
    folder = _folder(args.run_dir)
    state = fold(read_journal(folder), _initial_cash(folder))
    index_path = folder / INDEX_NAME
    try:
        index = JournalIndex(index_path)
        try:
            if not _writer_keeps_index(folder):
                index.catch_up(folder / "events.jsonl", complete_size(folder / "events.jsonl"))
            hits = index.find(
                kind=args.kind, strategy=args.strategy, limit=max(args.tail, 0), last=True
            )
        finally:
            index.close()
        recent = _read_lines(folder / "events.jsonl", hits)
    except JournalError as exc:
        raise JournalError(
            f"the index {index_path} is damaged or does not match the log ({exc}); the log "
            f"itself is the record: rebuild the index with "
            f"`papertape journal index {folder} --rebuild`"
        ) from None
    if args.json:
        print(
            json.dumps(
                {**_state_json(state), "status": _status(folder), "events_shown": recent},
                indent=2,
                default=str,
            )
        )
        return 0
    _print_state(state, _status(folder), recent, Console())
    return 0


def _read_lines(log: Path, hits: list[tuple[int, int, int]]) -> list[dict[str, Any]]:
    out = []
    with open(log, "rb") as fh:
        for seq, offset, length in hits:
            fh.seek(offset)
            try:
                rec = decode_line(fh.read(length))
            except JournalError as exc:
                raise JournalError(
                    f"event {seq} is indexed at byte {offset} of {log}, where there is no "
                    f"event: {exc}"
                ) from None
            if rec.get("seq") != seq:
                raise JournalError(
                    f"event {seq} is indexed at byte {offset} of {log}, where event "
                    f"{rec.get('seq')} is"
                )
            out.append(rec)
    return out


def _state_json(state: JournalState) -> dict[str, Any]:
    return {
        "run_id": state.run_id,
        "events": state.events,
        "finished": state.finished,
        "last_time": state.last_time,
        "kinds": state.kinds,
        "strategies": {
            sid: {
                "cash": st.cash,
                "positions": st.positions,
                "fills": st.fills,
                "fees": st.fees,
                "trades": st.trades,
                "realised_pnl": st.realised_pnl,
                "enabled": st.enabled,
                "errors": st.errors,
                "shields": st.shields,
                "working_orders": [
                    {
                        "order_id": o.order_id,
                        "symbol": o.symbol,
                        "side": o.side,
                        "qty": o.qty,
                        "filled": o.filled,
                        "type": o.order_type,
                        "role": o.role,
                        "price": o.price,
                    }
                    for o in st.orders.values()
                ],
            }
            for sid, st in state.strategies.items()
        },
    }


def _print_state(
    state: JournalState, status: str, recent: list[dict[str, Any]], console: Console
) -> None:
    from papertape.engine.cli.report import iso

    when = iso(state.last_time) if state.last_time else "-"
    console.print(
        f"[bold]{state.run_id or '?'}[/] · {status} · {state.events:,} events · "
        f"last market time {when}",
        highlight=False,
    )
    table = Table(title_justify="left")
    for col in (
        "strategy",
        "cash",
        "positions",
        "fills",
        "trades",
        "realised pnl",
        "working",
        "shields",
    ):
        table.add_column(col, justify="left" if col in ("strategy", "positions") else "right")
    for sid, st in state.strategies.items():
        table.add_row(
            sid + ("" if st.enabled else " (off)"),
            "-" if st.cash is None else f"{st.cash:,.2f}",
            ", ".join(f"{s} {q:g}" for s, q in st.positions.items()) or "flat",
            str(st.fills),
            str(st.trades),
            f"{st.realised_pnl:,.2f}",
            str(len(st.orders)),
            ", ".join(f"{k}={v}" for k, v in st.shields.items()) or "-",
        )
    console.print(table)
    for rec in recent:
        rest = {k: v for k, v in rec.items() if k not in ("kind", "seq", "time")}
        console.print(
            f"#{rec.get('seq')} {iso(int(rec.get('time') or 0))} "
            f"[bold]{rec.get('kind')}[/] {json.dumps(rest, default=str)}",
            highlight=False,
            soft_wrap=True,
        )


def _index(args: argparse.Namespace) -> int:
    folder = _folder(args.run_dir)
    if _writer_keeps_index(folder):
        raise JournalError(f"{folder} is still being written; its writer keeps the index")
    path = folder / INDEX_NAME
    index = JournalIndex.rebuild(path) if args.rebuild else JournalIndex(path)
    try:
        added = index.catch_up(folder / "events.jsonl", complete_size(folder / "events.jsonl"))
        index.finalize()
        total = index.count()
    finally:
        index.close()
    print(f"{path}: {total:,} events indexed ({added:,} added)")
    return 0


def _push(args: argparse.Namespace) -> int:
    from papertape.engine.journal.postgres import PostgresMirror, mask_dsn
    from papertape.engine.journal.replay.resume import load_run

    folder = _folder(args.run_dir)
    dsn = resolve_dsn(args)
    config, _ = load_run(folder)
    log = folder / "events.jsonl"
    size = complete_size(log)
    with open(log, "rb") as fh:
        events = fh.read(size).count(b"\n")
    mirror = PostgresMirror(dsn, config.run_id, log, drain_timeout=args.timeout)
    mirror.backfill(events)
    left = mirror.close()
    if left:
        raise JournalError(
            f"PostgreSQL {mask_dsn(dsn)}: {left:,} of {events:,} events not shipped "
            f"({mirror.last_error or 'timed out'})"
        )
    print(f"{config.run_id}: {events:,} events in PostgreSQL {mask_dsn(dsn)}")
    return 0
