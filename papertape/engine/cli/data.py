"""``papertape data``: load market history into PostgreSQL and list what it holds."""

from __future__ import annotations

import argparse
import json

from rich.console import Console
from rich.table import Table

from papertape.engine.cli.options import add_dsn_options, resolve_dsn
from papertape.engine.errors import ConfigError

__all__ = ["register"]

HELP = """\
Market history in PostgreSQL (table papertape.candles, created on first use; a TimescaleDB
hypertable when that extension is available). The DSN comes from --dsn or, better (it may hold
a password), from the environment variable named by --dsn-env (PAPERTAPE_DSN by default).

  export PAPERTAPE_DSN=postgresql://user:secret@localhost/market
  papertape data import sp500_daily.csv --symbol SPX
  papertape data import trades.csv --symbol XRPETH --timeframe 5m
  papertape data list

Runs read it with a data entry `{ source = "postgres", symbol = "SPX" }` and a [postgres]
section naming the DSN's environment variable. Importing is idempotent: bars are keyed by
(symbol, time), and a re-import overwrites the bars it covers.
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``data`` command group."""
    p = sub.add_parser(
        "data",
        help="load market history into PostgreSQL, list it",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cmds = p.add_subparsers(dest="data_command", metavar="ACTION", required=True)

    imp = cmds.add_parser(
        "import",
        help="load a CSV/Parquet file of bars or trades",
        description="Validate a data file exactly as a run would (rejected "
        "rows are counted, not loaded) and COPY its bars into "
        "papertape.candles.",
    )
    imp.add_argument("file", metavar="FILE", help="CSV/Parquet OHLCV bars or trades")
    imp.add_argument("--symbol", help="symbol to store the bars under (default: the file name)")
    imp.add_argument(
        "--timeframe", metavar="TF", help="aggregate into bars of this size first (1m, 5m, 1h, 1d)"
    )
    add_dsn_options(imp)
    imp.add_argument("--json", action="store_true", help="print one JSON object")
    imp.set_defaults(handler=_import)

    ls = cmds.add_parser("list", help="symbols in the database with their bar counts and range")
    add_dsn_options(ls)
    ls.add_argument("--json", action="store_true", help="print JSON")
    ls.set_defaults(handler=_list)


def _import(args: argparse.Namespace) -> int:
    from papertape.engine.config import resolve_data_path
    from papertape.engine.feeds.loader import load_bars
    from papertape.engine.journal.postgres import import_bars, mask_dsn

    dsn = resolve_dsn(args)
    series = load_bars(resolve_data_path(args.file), symbol=args.symbol, timeframe=args.timeframe)
    if not len(series):
        raise ConfigError("FILE", args.file, "no valid rows to import")
    rows = import_bars(dsn, series)
    rejected = series.rejections.as_dict() if series.rejections else {}
    if args.json:
        print(json.dumps({"symbol": series.symbol, "bars": rows, "rejected": rejected}))
        return 0
    extra = f"; rejected rows: {rejected}" if rejected else ""
    Console().print(f"{series.symbol}: {rows:,} bars in {mask_dsn(dsn)}{extra}", highlight=False)
    return 0


def _list(args: argparse.Namespace) -> int:
    from papertape.engine.cli.report import iso
    from papertape.engine.journal.postgres import list_symbols

    found = list_symbols(resolve_dsn(args))
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "symbol": s.symbol,
                        "bars": s.bars,
                        "first": iso(s.first_ns),
                        "last": iso(s.last_ns),
                    }
                    for s in found
                ],
                indent=2,
            )
        )
        return 0
    table = Table(title="papertape.candles", title_justify="left")
    for col in ("symbol", "bars", "first", "last"):
        table.add_column(col, justify="right" if col == "bars" else "left")
    for s in found:
        table.add_row(s.symbol, f"{s.bars:,}", iso(s.first_ns), iso(s.last_ns))
    Console().print(table)
    return 0
