"""Append-only JSON Lines journal: one event per line, in stream order.

Lines are written with sorted keys and no wall-clock fields, so the same run gives a
byte-identical file. Each line is written whole and flushed with the step that produced it
when ``flush_every`` is 1; by default the writer batches lines in memory and flushes every
``flush_every`` events and at the end of the run (crash-safety across kill -9 is the job of the
durable store in the live-trading work).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from engine.errors import JournalError
from engine.hookspecs import hookimpl

if TYPE_CHECKING:
    from engine.events import Event

__all__ = ["JsonlJournal", "read_journal"]


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


_dumps = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode


def encode(event: Event) -> str:
    """One canonical JSON line (without the newline)."""
    try:
        return _dumps(event.record())  # record() is already in sorted key order
    except ValueError:
        return json.dumps(_clean(event.record()), sort_keys=True, separators=(",", ":"))


class JsonlJournal:
    """A pluggy plugin writing every event to ``<dir>/<run_id>/events.jsonl``."""

    def __init__(self, directory: str | Path, run_id: str, flush_every: int = 4096) -> None:
        self.path = Path(directory) / run_id / "events.jsonl"
        self.flush_every = max(1, flush_every)
        self._buf: list[str] = []
        self._fh: IO[str] | None = None
        self.events_written = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.path.open("w", encoding="utf-8")
        except OSError as exc:
            raise JournalError(f"cannot open journal {self.path}: {exc}") from exc

    @hookimpl
    def papertape_event(self, event: Event) -> None:
        """Queue one line; flush in batches."""
        self._buf.append(encode(event))
        if len(self._buf) >= self.flush_every:
            self.flush()

    @hookimpl
    def papertape_run_finished(self, run: Mapping[str, Any], results: Mapping[str, Any]) -> None:
        """Flush and close at the end of the run."""
        self.close()

    def flush(self) -> None:
        """Write queued lines."""
        if self._fh is None or not self._buf:
            return
        try:
            self._fh.write("\n".join(self._buf) + "\n")
            self._fh.flush()
        except OSError as exc:
            raise JournalError(f"cannot write journal {self.path}: {exc}") from exc
        self.events_written += len(self._buf)
        self._buf.clear()

    def close(self) -> None:
        """Flush and close the file (idempotent)."""
        self.flush()
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def read_journal(path: str | Path) -> Iterator[dict[str, Any]]:
    """Yield the events of a journal file; a torn last line (crash) is skipped, others raise."""
    p = Path(path)
    if p.is_dir():
        p = p / "events.jsonl"
    try:
        lines = p.read_text(encoding="utf-8").split("\n")
    except OSError as exc:
        raise JournalError(f"cannot read journal {p}: {exc}") from exc
    for i, line in enumerate(lines):
        if not line:
            continue
        try:
            yield json.loads(line)
        except json.JSONDecodeError as exc:
            if i == len(lines) - 1:  # a last line without newline: torn by a crash
                return
            raise JournalError(f"{p}:{i + 1}: corrupt journal line: {exc}") from exc
