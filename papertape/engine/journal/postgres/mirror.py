"""The PostgreSQL journal mirror: ships committed journal lines from a thread of its own.

The engine never waits on the database. After each group commit the journal store hands the
tick's lines to :meth:`PostgresMirror.offer`, which only appends them to an in-memory queue
under a lock held for a few instructions. A thread running its own asyncio loop drains the queue
in batches: COPY into a temporary staging table, then ``INSERT ... ON CONFLICT DO NOTHING`` into
``papertape.journal_events`` (and ``trades``, ``runs``) in one transaction, so a batch retried
after a lost connection is written exactly once.

When the database goes away the thread reconnects with exponential backoff and retries the
batch it holds; meanwhile the queue grows. Past ``buffer`` events the queue stops growing and
the mirror *spills*: it notes where the log stands and later reads the missing lines back from
the journal file, which already holds them durably. Nothing is lost and memory stays bounded.
If the run ends while the database is still away, :meth:`close` waits ``drain_timeout`` seconds,
then reports what is left; ``papertape journal push RUN_DIR`` ships it later (idempotently).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from papertape.engine.journal.jsonl import scan_lines
from papertape.engine.journal.postgres.connection import (
    connect,
    is_login_refused,
    is_transient,
    login_refused_error,
    mask_dsn,
    require_asyncpg,
)
from papertape.engine.journal.postgres.schema import (
    EVENT_COLUMNS,
    SCHEMA,
    TRADE_COLUMNS,
    create_staging,
    ensure_schema,
)

if TYPE_CHECKING:
    import asyncpg

__all__ = ["PostgresMirror"]

log = logging.getLogger("papertape.postgres")
Line = tuple[int, bytes]  # (seq, journal line)


class PostgresMirror:
    """Mirrors one run's journal into PostgreSQL without blocking the engine.

    Args:
        dsn: PostgreSQL DSN.
        run_id: The run's id (key of every row).
        log_path: The run's ``events.jsonl``: the spill source.
        reset: Delete the run's rows first (a fresh run replacing an old one of the same id);
            otherwise rows already in the database are kept and skipped.
        buffer: Events held in memory before spilling to the log.
        batch: Events per COPY.
        poll: Seconds between looks at an empty queue.
        max_backoff: Longest wait between reconnection attempts.
        drain_timeout: Seconds :meth:`close` waits for the rest to be shipped.
    """

    def __init__(
        self,
        dsn: str,
        run_id: str,
        log_path: str | Path,
        *,
        reset: bool = False,
        buffer: int = 100_000,
        batch: int = 5_000,
        poll: float = 0.05,
        max_backoff: float = 5.0,
        drain_timeout: float = 30.0,
    ) -> None:
        require_asyncpg()
        self.dsn = dsn
        self.run_id = run_id
        self.log_path = Path(log_path)
        self.buffer = max(1, buffer)
        self.batch = max(1, batch)
        self.poll = poll
        self.max_backoff = max_backoff
        self.drain_timeout = drain_timeout
        self._reset = reset
        self._first_connect = True
        self._lock = threading.Lock()
        self._queue: deque[tuple[int, Sequence[bytes]]] = deque()
        self._queued = 0
        self._spill: tuple[int, int] | None = None  # (seq, byte offset) to read the log from
        self._offered = 0  # seq after the last line offered
        self._shipped = 0  # seq after the last line known to be in the database
        self._closing = threading.Event()
        self._deadline = float("inf")
        self.connected = False
        self.spills = 0
        self.reconnects = 0
        self.last_error: str | None = None
        self.refused = False  # the server refused the login: the mirror stopped
        self._thread = threading.Thread(
            target=self._thread_main, name=f"papertape-pg-{run_id}", daemon=True
        )
        self._thread.start()

    # ---------------------------------------------------------------------------------------
    # engine side (called from the engine's thread; never blocks on the database)
    # ---------------------------------------------------------------------------------------

    def offer(self, first_seq: int, first_offset: int, lines: Sequence[bytes]) -> None:
        """Queue committed lines ``first_seq...`` (at byte ``first_offset`` of the log)."""
        n = len(lines)
        with self._lock:
            if self._spill is None:
                if self._queued + n <= self.buffer:
                    self._queue.append((first_seq, lines))
                    self._queued += n
                else:
                    self._spill = (first_seq, first_offset)
                    self.spills += 1
            self._offered = max(self._offered, first_seq + n)

    def backfill(self, events: int, first_seq: int = 0, first_offset: int = 0) -> None:
        """Ship log lines ``first_seq`` up to ``events`` straight from the file."""
        with self._lock:
            if self._spill is None:
                self._spill = (first_seq, first_offset)
            self._offered = max(self._offered, events)

    @property
    def backlog(self) -> int:
        """Events offered but not yet confirmed by the database."""
        with self._lock:
            return max(0, self._offered - self._shipped)

    def close(self, timeout: float | None = None) -> int:
        """Ship what is left, waiting at most ``timeout`` (default ``drain_timeout``) seconds.

        Returns:
            Events not shipped (0 when the database holds the whole log).
        """
        wait = self.drain_timeout if timeout is None else timeout
        self._deadline = time.monotonic() + wait
        self._closing.set()
        self._thread.join(wait + 10.0)
        return self.backlog

    # ---------------------------------------------------------------------------------------
    # the mirror's thread
    # ---------------------------------------------------------------------------------------

    def _thread_main(self) -> None:
        try:
            asyncio.run(self._main())
        except Exception:  # never let the thread die silently
            log.exception("PostgreSQL mirror of %s stopped", self.run_id)

    def _give_up(self) -> bool:
        return self._closing.is_set() and time.monotonic() >= self._deadline

    async def _pause(self, seconds: float) -> None:
        if self._closing.is_set():
            seconds = min(seconds, max(0.0, self._deadline - time.monotonic()))
        await asyncio.sleep(seconds)

    async def _main(self) -> None:
        conn: asyncpg.Connection | None = None
        delay = 0.05
        batch: list[Line] = []
        try:
            while True:
                if not batch:
                    batch = self._take()
                    if not batch:
                        if self._closing.is_set() and self.backlog == 0:
                            return
                        if self._give_up():
                            return
                        await self._pause(self.poll)
                        continue
                if self._give_up():
                    return
                try:
                    if conn is None:
                        conn = await self._open()
                        delay = 0.05
                    batch = [x for x in batch if x[0] >= self._shipped]
                    if batch:
                        await self._ship(conn, batch)
                        with self._lock:
                            self._shipped = max(self._shipped, batch[-1][0] + 1)
                    batch = []
                except Exception as exc:
                    if is_login_refused(exc):  # retrying cannot help: say so once and stop
                        self.last_error = str(login_refused_error(exc, self.dsn))
                        self.refused = True
                        log.error(
                            "%s; the journal mirror of %s is off for this run (the journal "
                            "is complete in %s: ship it later with `papertape journal push`)",
                            self.last_error,
                            self.run_id,
                            self.log_path.parent,
                        )
                        return
                    self._lost(exc)
                    if conn is not None:
                        with contextlib.suppress(Exception):
                            conn.terminate()
                        conn = None
                    await self._pause(delay)
                    delay = min(delay * 2, self.max_backoff)
        finally:
            self.connected = False
            if conn is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(conn.close(), 2.0)

    def _lost(self, exc: BaseException) -> None:
        first = self.connected or self.last_error is None
        self.connected = False
        self.last_error = f"{type(exc).__name__}: {exc}"
        if not is_transient(exc):
            log.error("PostgreSQL mirror of %s: %s (retrying)", self.run_id, self.last_error)
        elif first:
            log.warning(
                "PostgreSQL %s unreachable (%s); buffering journal events",
                mask_dsn(self.dsn),
                self.last_error,
            )

    async def _open(self) -> asyncpg.Connection:
        conn = await connect(self.dsn)
        try:
            await ensure_schema(conn)
            await create_staging(conn)
            if self._first_connect:
                await self._start_point(conn)
                self._first_connect = False
        except BaseException:
            conn.terminate()
            raise
        if self.reconnects or self.last_error is not None:
            log.info(
                "PostgreSQL %s reachable again; shipping %d buffered events",
                mask_dsn(self.dsn),
                self.backlog,
            )
        self.reconnects += 1
        self.connected = True
        return conn

    async def _start_point(self, conn: asyncpg.Connection) -> None:
        if self._reset:
            async with conn.transaction():
                for table in ("journal_events", "trades", "runs"):
                    await conn.execute(
                        f"DELETE FROM {SCHEMA}.{table} WHERE run_id = $1", self.run_id
                    )
            return
        top = await conn.fetchval(
            f"SELECT max(seq) FROM {SCHEMA}.journal_events WHERE run_id = $1", self.run_id
        )
        if top is not None:
            with self._lock:
                self._shipped = max(self._shipped, int(top) + 1)

    def _take(self) -> list[Line]:
        """The next batch: queued lines first, then (when spilling) lines read from the log."""
        out: list[Line] = []
        with self._lock:
            while self._queue and len(out) < self.batch:
                first, lines = self._queue.popleft()
                self._queued -= len(lines)
                out.extend(zip(range(first, first + len(lines)), lines, strict=True))
            if out or self._spill is None:
                return out
            seq, offset = self._spill
            upto = self._offered
            if seq >= upto:
                self._spill = None  # caught up: back to the in-memory queue
                return out
        for off, line in scan_lines(self.log_path, offset):
            out.append((seq, line))
            seq += 1
            offset = off + len(line) + 1
            if seq >= upto or len(out) >= self.batch:
                break
        with self._lock:
            self._spill = (seq, offset)
        return out

    async def _ship(self, conn: asyncpg.Connection, batch: list[Line]) -> None:
        events: list[tuple[Any, ...]] = []
        trades: list[tuple[Any, ...]] = []
        runs: list[dict[str, Any]] = []
        rid = self.run_id
        for seq, line in batch:
            rec = orjson.loads(line)
            body = line.decode()
            if "\\u0000" in body:  # jsonb refuses NUL characters
                body = body.replace("\\u0000", "\\ufffd")
            kind = rec.get("kind")
            events.append(
                (
                    rid,
                    seq,
                    int(rec.get("time") or 0),
                    str(kind),
                    _text(rec.get("strategy")),
                    _text(rec.get("symbol")),
                    body,
                )
            )
            if kind == "trade":
                trades.append(
                    (
                        rid,
                        seq,
                        str(rec["strategy"]),
                        str(rec["symbol"]),
                        int(rec["side"]),
                        rec.get("qty"),
                        int(rec["entry_time"]),
                        int(rec["time"]),
                        rec.get("entry_price"),
                        rec.get("exit_price"),
                        rec.get("pnl"),
                        rec.get("fees"),
                        rec.get("bars_held"),
                    )
                )
            elif kind in ("run_started", "run_finished"):
                runs.append({**rec, "seq": seq})
        async with conn.transaction():
            await conn.copy_records_to_table("stage_events", records=events, columns=EVENT_COLUMNS)
            await conn.execute(
                f"INSERT INTO {SCHEMA}.journal_events SELECT * FROM stage_events "
                "ON CONFLICT DO NOTHING"
            )
            if trades:
                await conn.copy_records_to_table(
                    "stage_trades", records=trades, columns=TRADE_COLUMNS
                )
                await conn.execute(
                    f"INSERT INTO {SCHEMA}.trades SELECT * FROM stage_trades ON CONFLICT DO NOTHING"
                )
            for rec in runs:
                await _run_row(conn, rid, rec)


async def _run_row(conn: asyncpg.Connection, run_id: str, rec: dict[str, Any]) -> None:
    if rec["kind"] == "run_started":
        await conn.execute(
            f"""INSERT INTO {SCHEMA}.runs (run_id, config_hash, data_hash, mode, seed, version,
                    symbols, strategies, started_ns)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                ON CONFLICT (run_id) DO UPDATE SET config_hash = EXCLUDED.config_hash,
                    data_hash = EXCLUDED.data_hash, mode = EXCLUDED.mode, seed = EXCLUDED.seed,
                    version = EXCLUDED.version, symbols = EXCLUDED.symbols,
                    strategies = EXCLUDED.strategies, started_ns = EXCLUDED.started_ns""",
            run_id,
            rec.get("config_hash"),
            rec.get("data_hash"),
            rec.get("mode"),
            rec.get("seed"),
            rec.get("version"),
            list(rec.get("symbols") or []),
            list(rec.get("strategies") or []),
            int(rec.get("time") or 0),
        )
        return
    await conn.execute(
        f"""INSERT INTO {SCHEMA}.runs (run_id, finished_ns, bars, events, summary)
            VALUES ($1, $2, $3, $4, $5::jsonb)
            ON CONFLICT (run_id) DO UPDATE SET finished_ns = EXCLUDED.finished_ns,
                bars = EXCLUDED.bars, events = EXCLUDED.events, summary = EXCLUDED.summary""",
        run_id,
        int(rec.get("time") or 0),
        rec.get("bars"),
        rec["seq"] + 1,
        orjson.dumps(rec.get("summary") or {}).decode(),
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)
