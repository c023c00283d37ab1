"""papertape's tables in PostgreSQL (schema ``papertape``), created on first use.

::

    candles         market history: (symbol, time_ns) -> OHLCV          `papertape data import`
    journal_events  every journal line: (run_id, seq) -> kind, ..., body jsonb
    trades          closed round trips, from the journal's ``trade`` events
    runs            one row per run: identity at start, summary at the end

Times are nanoseconds since the Unix epoch in ``bigint`` columns (``time_ns``), exactly as in
the journal. Primary keys make every write idempotent: the journal mirror and ``data import``
COPY into a temporary staging table and insert from it ``ON CONFLICT``, so a batch retried
after a lost connection never doubles a row.

When the TimescaleDB extension is available, ``candles`` becomes a hypertable (chunks of one
week of ``time_ns``); without it the plain table works the same.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncpg

__all__ = [
    "CANDLE_COLUMNS",
    "EVENT_COLUMNS",
    "SCHEMA",
    "TRADE_COLUMNS",
    "create_staging",
    "ensure_schema",
]

log = logging.getLogger("papertape.postgres")

SCHEMA = "papertape"
EVENT_COLUMNS = ("run_id", "seq", "time_ns", "kind", "strategy", "symbol", "body")
TRADE_COLUMNS = (
    "run_id",
    "seq",
    "strategy",
    "symbol",
    "side",
    "qty",
    "entry_ns",
    "exit_ns",
    "entry_price",
    "exit_price",
    "pnl",
    "fees",
    "bars_held",
)
CANDLE_COLUMNS = ("symbol", "time_ns", "open", "high", "low", "close", "volume")
WEEK_NS = 7 * 86_400 * 10**9
_LOCK_KEY = 0x7061_7065_7274_6170  # "papertap": serialises concurrent schema creation

_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS {SCHEMA}.candles (
    symbol  text NOT NULL,
    time_ns bigint NOT NULL,
    open    double precision NOT NULL,
    high    double precision NOT NULL,
    low     double precision NOT NULL,
    close   double precision NOT NULL,
    volume  double precision NOT NULL,
    PRIMARY KEY (symbol, time_ns)
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.journal_events (
    run_id   text NOT NULL,
    seq      bigint NOT NULL,
    time_ns  bigint NOT NULL,
    kind     text NOT NULL,
    strategy text,
    symbol   text,
    body     jsonb NOT NULL,
    PRIMARY KEY (run_id, seq)
);
CREATE INDEX IF NOT EXISTS journal_events_by_kind
    ON {SCHEMA}.journal_events (run_id, kind, strategy);
CREATE TABLE IF NOT EXISTS {SCHEMA}.trades (
    run_id      text NOT NULL,
    seq         bigint NOT NULL,
    strategy    text NOT NULL,
    symbol      text NOT NULL,
    side        smallint NOT NULL,
    qty         double precision,
    entry_ns    bigint NOT NULL,
    exit_ns     bigint NOT NULL,
    entry_price double precision,
    exit_price  double precision,
    pnl         double precision,
    fees        double precision,
    bars_held   integer,
    PRIMARY KEY (run_id, seq)
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.runs (
    run_id      text PRIMARY KEY,
    config_hash text,
    data_hash   text,
    mode        text,
    seed        bigint,
    version     text,
    symbols     text[],
    strategies  text[],
    started_ns  bigint,
    finished_ns bigint,
    bars        bigint,
    events      bigint,
    summary     jsonb
);
"""


async def ensure_schema(conn: asyncpg.Connection) -> None:
    """Create the schema and tables when missing (safe to run concurrently)."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_KEY)
        await conn.execute(_DDL)
    await _timescale(conn)


async def _timescale(conn: asyncpg.Connection) -> None:
    """Turn ``candles`` into a hypertable when TimescaleDB can be used; quiet otherwise."""
    available = await conn.fetchval(
        "SELECT count(*) FROM pg_available_extensions WHERE name = 'timescaledb'"
    )
    if not available:
        return
    try:
        async with conn.transaction():
            await conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
            await conn.execute(
                f"SELECT create_hypertable('{SCHEMA}.candles', 'time_ns', "
                f"chunk_time_interval => {WEEK_NS}::bigint, if_not_exists => TRUE, "
                "migrate_data => TRUE)"
            )
    except Exception as exc:  # not preloaded, no privilege...: a plain table still works
        log.info("TimescaleDB present but not usable (%s); candles stay a plain table", exc)


async def create_staging(conn: asyncpg.Connection) -> None:
    """Per-connection temporary tables that COPY fills before an idempotent insert."""
    await conn.execute(
        f"""
        CREATE TEMP TABLE IF NOT EXISTS stage_events
            (LIKE {SCHEMA}.journal_events) ON COMMIT DELETE ROWS;
        CREATE TEMP TABLE IF NOT EXISTS stage_trades
            (LIKE {SCHEMA}.trades) ON COMMIT DELETE ROWS;
        CREATE TEMP TABLE IF NOT EXISTS stage_candles
            (LIKE {SCHEMA}.candles) ON COMMIT DELETE ROWS;
        """
    )
