"""The SQLite index of a run's event log (``index.sqlite``, WAL mode).

The log is the source of truth; the index is derived from it and can always be rebuilt. It
holds one row per event: ``seq``, market ``time``, ``kind``, ``strategy``, ``symbol`` and the
line's byte ``offset``/``length`` in the log, so tools find "every fill of strategy X" or
"events between two times" without parsing the whole log, then read the lines they need.

The writer adds rows in batches (it may lag the log by a few thousand events or about a second)
and commits without fsync (``synchronous=NORMAL``): after any crash :meth:`JournalIndex.catch_up`
drops rows past the log's end and indexes what the log has beyond the last row. Secondary
indexes are built by the first query (:meth:`JournalIndex.find`, :meth:`~JournalIndex.counts`)
or by ``papertape journal index`` (:meth:`JournalIndex.finalize`), not by the run: keeping them
current on every insert costs several times more, and building them at the end of every run
cost about 1 µs per event that most runs (sweeps, backtests nobody queries) never get back.
"""

from __future__ import annotations

import contextlib
import operator
import sqlite3
from collections.abc import Sequence
from itertools import accumulate
from pathlib import Path
from typing import Any

from papertape.engine.errors import JournalError
from papertape.engine.journal.jsonl import decode_line, scan_lines

__all__ = ["INDEX_NAME", "IndexRow", "JournalIndex"]

INDEX_NAME = "index.sqlite"
IndexRow = tuple[int, int, str, str | None, str | None, int, int]
"""``(seq, time, kind, strategy, symbol, offset, length)``."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq      INTEGER PRIMARY KEY,
    time     INTEGER NOT NULL,
    kind     TEXT NOT NULL,
    strategy TEXT,
    symbol   TEXT,
    offset   INTEGER NOT NULL,
    length   INTEGER NOT NULL
);
"""
_SECONDARY = """
CREATE INDEX IF NOT EXISTS events_by_kind ON events (kind, seq);
CREATE INDEX IF NOT EXISTS events_by_strategy ON events (strategy, kind, seq);
CREATE INDEX IF NOT EXISTS events_by_time ON events (time);
"""
_INSERT = "INSERT OR IGNORE INTO events VALUES (?, ?, ?, ?, ?, ?, ?)"
# The writer's rows are (time, kind, strategy, symbol) + (seq, offset, length): built by C-level
# iterators (no bytecode per row), so the columns are named in that order.
_INSERT_FACTS = (
    "INSERT OR IGNORE INTO events (time, kind, strategy, symbol, seq, offset, length) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)


_plus_one = (1).__add__  # a line's length + its newline


def _err(path: Path, exc: Exception) -> JournalError:
    return JournalError(f"journal index {path}: {exc}")


class JournalIndex:
    """One run's SQLite index; not thread-safe (one connection, the opening thread)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=10.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise _err(self.path, exc) from exc
        self._secondary = False  # secondary indexes known to exist (see _ensure_secondary)

    @classmethod
    def rebuild(cls, path: str | Path) -> JournalIndex:
        """Delete an index (and its WAL files) and start an empty one."""
        p = Path(path)
        for extra in ("", "-wal", "-shm"):
            Path(f"{p}{extra}").unlink(missing_ok=True)
        return cls(p)

    # ---------------------------------------------------------------------------------------
    # writing
    # ---------------------------------------------------------------------------------------

    def add(self, rows: Sequence[IndexRow]) -> None:
        """Insert rows in one transaction (rows already present are ignored)."""
        if not rows:
            return
        try:
            self._db.execute("BEGIN")
            self._db.executemany(_INSERT, rows)
            self._db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise _err(self.path, exc) from exc

    def add_lines(
        self,
        facts: Sequence[tuple[int, str, str | None, str | None]],
        lines: Sequence[bytes],
        first_seq: int,
        first_offset: int,
    ) -> None:
        """Index consecutive log lines from ``first_seq`` (at byte ``first_offset``).

        ``facts`` holds each line's ``(time, kind, strategy, symbol)``. The same rows as
        :func:`rows_for` + :meth:`add`, assembled without Python code per row.
        """
        if len(facts) != len(lines):
            raise JournalError(f"journal index {self.path}: {len(facts)} facts, {len(lines)} lines")
        if not lines:
            return
        lengths = list(map(len, lines))
        offsets = accumulate(map(_plus_one, lengths[:-1]), initial=first_offset)
        seqs = range(first_seq, first_seq + len(lines))
        rows = map(operator.add, facts, zip(seqs, offsets, lengths, strict=True))
        try:
            self._db.execute("BEGIN")
            self._db.executemany(_INSERT_FACTS, rows)
            self._db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise _err(self.path, exc) from exc

    def end(self) -> tuple[int, int]:
        """``(next seq, log offset after the last indexed line)``; ``(0, 0)`` when empty."""
        row = self._db.execute(
            "SELECT seq, offset, length FROM events ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        return (0, 0) if row is None else (row[0] + 1, row[1] + row[2] + 1)

    def catch_up(self, log: str | Path, log_size: int) -> int:
        """Make the index match the first ``log_size`` bytes of ``log``; return rows added.

        Rows past ``log_size`` are dropped (the log was cut back after a crash). Indexing stops
        at the first line that does not parse or breaks the ``seq`` order, which only a
        damaged tail can hold; the resume logic repairs the log itself.
        """
        try:
            self._db.execute("DELETE FROM events WHERE offset + length >= ?", (log_size,))
        except sqlite3.DatabaseError as exc:
            raise _err(self.path, exc) from exc
        seq, offset = self.end()
        rows: list[IndexRow] = []
        added = 0
        for off, line in scan_lines(log, offset, log_size):
            try:
                rec = decode_line(line)
            except JournalError:
                break
            if rec.get("seq") != seq:
                break
            rows.append(_row_of(rec, seq, off, len(line)))
            seq += 1
            if len(rows) >= 50_000:
                self.add(rows)
                added += len(rows)
                rows = []
        self.add(rows)
        return added + len(rows)

    def checkpoint(self) -> None:
        """Fold the WAL into the database file (what the writer does when a run ends)."""
        try:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.DatabaseError as exc:
            raise _err(self.path, exc) from exc

    def finalize(self) -> None:
        """Build the secondary indexes and fold the WAL into the database file."""
        try:
            self._db.executescript(_SECONDARY)
            self._secondary = True
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.DatabaseError as exc:
            raise _err(self.path, exc) from exc

    def _ensure_secondary(self) -> None:
        """Build the secondary indexes before the first query (no-op once they exist).

        The writer leaves them out (building them costs about as much as inserting the rows,
        a cost most runs never get back); the first reader pays it once. A reader that cannot
        write (read-only folder, a busy writer) queries without them: slower, same answers.
        """
        if self._secondary:
            return
        self._secondary = True
        with contextlib.suppress(sqlite3.DatabaseError):
            self._db.executescript(_SECONDARY)

    def close(self) -> None:
        """Close the connection (idempotent)."""
        self._db.close()

    # ---------------------------------------------------------------------------------------
    # reading
    # ---------------------------------------------------------------------------------------

    def count(self) -> int:
        """Number of indexed events."""
        return int(self._db.execute("SELECT count(*) FROM events").fetchone()[0])

    def counts(self) -> dict[tuple[str, str | None], int]:
        """Events per ``(kind, strategy)``."""
        self._ensure_secondary()
        rows = self._db.execute(
            "SELECT kind, strategy, count(*) FROM events GROUP BY kind, strategy"
        ).fetchall()
        return {(k, s): int(n) for k, s, n in rows}

    def find(
        self,
        kind: str | None = None,
        strategy: str | None = None,
        symbol: str | None = None,
        since: int | None = None,
        until: int | None = None,
        limit: int | None = None,
        last: bool = False,
    ) -> list[tuple[int, int, int]]:
        """``(seq, offset, length)`` of matching events in stream order.

        Args:
            kind: Event kind (``fill``, ``signal``...).
            strategy: Strategy id.
            symbol: Symbol.
            since: Market time (ns) at or after which events count.
            until: Market time (ns) before which events count.
            limit: At most this many events.
            last: With ``limit``, the last ``limit`` matches instead of the first.
        """
        self._ensure_secondary()
        where: list[str] = []
        args: list[Any] = []
        for col, val in (("kind", kind), ("strategy", strategy), ("symbol", symbol)):
            if val is not None:
                where.append(f"{col} = ?")
                args.append(val)
        if since is not None:
            where.append("time >= ?")
            args.append(since)
        if until is not None:
            where.append("time < ?")
            args.append(until)
        sql = "SELECT seq, offset, length FROM events"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY seq DESC" if last else " ORDER BY seq"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        rows = self._db.execute(sql, args).fetchall()
        return sorted(rows) if last else rows


def _row_of(rec: dict[str, Any], seq: int, offset: int, length: int) -> IndexRow:
    return (
        seq,
        int(rec.get("time") or 0),
        str(rec.get("kind")),
        _text(rec.get("strategy")),
        _text(rec.get("symbol")),
        offset,
        length,
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)
