"""Market history in PostgreSQL: ``papertape data import`` writes it, the historical feed reads it.

Bars are keyed by ``(symbol, time_ns)``; importing the same file twice changes nothing, and a
corrected file overwrites the bars it covers. Reading gives back a :class:`BarSeries` with
exactly the arrays that were imported, so a run over PostgreSQL data has the same data hash
(and the same results) as the run over the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from papertape.engine.errors import DataError, PapertapeError
from papertape.engine.feeds.base import BarSeries
from papertape.engine.journal.postgres.connection import connect, mask_dsn, run_sync
from papertape.engine.journal.postgres.schema import (
    CANDLE_COLUMNS,
    SCHEMA,
    create_staging,
    ensure_schema,
)

if TYPE_CHECKING:
    import asyncpg

__all__ = ["SymbolRange", "import_bars", "list_symbols", "load_bars_pg"]

CHUNK = 50_000


@dataclass(frozen=True, slots=True)
class SymbolRange:
    """What the database holds for one symbol."""

    symbol: str
    bars: int
    first_ns: int
    last_ns: int


def _fail(dsn: str, what: str, exc: BaseException) -> DataError:
    return DataError(f"PostgreSQL {mask_dsn(dsn)}: {what}: {type(exc).__name__}: {exc}")


async def _import(dsn: str, series: BarSeries, symbol: str) -> int:
    conn = await connect(dsn)
    try:
        await ensure_schema(conn)
        await create_staging(conn)
        cols = [series.time, series.open, series.high, series.low, series.close, series.volume]
        lists = [c.tolist() for c in cols]
        n = len(series)
        for start in range(0, n, CHUNK):
            stop = min(n, start + CHUNK)
            rows = [
                (symbol, *vals) for vals in zip(*(col[start:stop] for col in lists), strict=True)
            ]
            async with conn.transaction():
                await conn.copy_records_to_table(
                    "stage_candles", records=rows, columns=CANDLE_COLUMNS
                )
                await conn.execute(
                    f"""INSERT INTO {SCHEMA}.candles SELECT * FROM stage_candles
                        ON CONFLICT (symbol, time_ns) DO UPDATE SET open = EXCLUDED.open,
                            high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close,
                            volume = EXCLUDED.volume"""
                )
        return n
    finally:
        await conn.close()


def import_bars(dsn: str, series: BarSeries, symbol: str | None = None) -> int:
    """Write a bar series into ``papertape.candles`` (COPY, idempotent); return its rows.

    Raises:
        DataError: The database cannot be reached or refuses the rows.
    """
    name = symbol or series.symbol
    try:
        return run_sync(_import(dsn, series, name))
    except PapertapeError:
        raise
    except Exception as exc:
        raise _fail(dsn, f"cannot import {name}", exc) from exc


async def _load(
    dsn: str, symbol: str, start_ns: int | None, end_ns: int | None
) -> list[asyncpg.Record]:
    conn = await connect(dsn)
    try:
        sql = (
            f"SELECT time_ns, open, high, low, close, volume FROM {SCHEMA}.candles "
            "WHERE symbol = $1 AND time_ns >= $2 AND time_ns < $3 ORDER BY time_ns"
        )
        lo = -(2**63) if start_ns is None else start_ns
        hi = 2**63 - 1 if end_ns is None else end_ns
        rows: list[asyncpg.Record] = await conn.fetch(sql, symbol, lo, hi)
        return rows
    finally:
        await conn.close()


def load_bars_pg(
    dsn: str, symbol: str, start_ns: int | None = None, end_ns: int | None = None
) -> BarSeries:
    """Read one symbol's bars from ``papertape.candles`` (``start_ns <= time < end_ns``).

    Raises:
        DataError: The database cannot be reached, or holds no bars for ``symbol``.
    """
    try:
        rows = run_sync(_load(dsn, symbol, start_ns, end_ns))
    except PapertapeError:
        raise
    except Exception as exc:
        raise _fail(dsn, f"cannot read bars of {symbol}", exc) from exc
    if not rows:
        raise DataError(
            f"PostgreSQL {mask_dsn(dsn)} holds no bars for {symbol!r}; "
            "load them with `papertape data import FILE --symbol NAME`"
        )
    t, o, h, lo, c, v = zip(*rows, strict=True)
    f8 = np.float64
    return BarSeries.from_arrays(
        symbol,
        np.array(t, dtype=np.int64),
        np.array(o, dtype=f8),
        np.array(h, dtype=f8),
        np.array(lo, dtype=f8),
        np.array(c, dtype=f8),
        np.array(v, dtype=f8),
        source=f"postgres:{symbol}",
    )


async def _symbols(dsn: str) -> list[asyncpg.Record]:
    conn = await connect(dsn)
    try:
        await ensure_schema(conn)
        rows: list[asyncpg.Record] = await conn.fetch(
            f"SELECT symbol, count(*), min(time_ns), max(time_ns) FROM {SCHEMA}.candles "
            "GROUP BY symbol ORDER BY symbol"
        )
        return rows
    finally:
        await conn.close()


def list_symbols(dsn: str) -> list[SymbolRange]:
    """Every symbol in ``papertape.candles`` with its bar count and time range.

    Raises:
        DataError: The database cannot be reached.
    """
    try:
        rows = run_sync(_symbols(dsn))
    except PapertapeError:
        raise
    except Exception as exc:
        raise _fail(dsn, "cannot list symbols", exc) from exc
    return [SymbolRange(r[0], int(r[1]), int(r[2]), int(r[3])) for r in rows]
