"""The journal store's feed of its SQLite index: committed lines, buffered, inserted in batches.

The index is derived from the log (``index.sqlite``, see :mod:`engine.journal.sqlite`); a live
session keeps it current through this feed, a replay leaves it to its first reader. Rows are
buffered and inserted once ``INDEX_BATCH`` lines are waiting or ``INDEX_SECONDS`` have passed
since the last insert, so the index never costs a write per tick.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from papertape.engine.errors import JournalError
from papertape.engine.journal.sqlite import INDEX_NAME, JournalIndex

if TYPE_CHECKING:
    from papertape.engine.events import Event

__all__ = ["INDEX_BATCH", "INDEX_SECONDS", "Facts", "IndexFeed", "facts_of"]

log = logging.getLogger("papertape.journal")

INDEX_BATCH = 8192  # index rows buffered before an insert
INDEX_SECONDS = 1.0  # ... or this long since the last insert

Facts = tuple[int, str, str | None, str | None]  # an index row's (time, kind, strategy, symbol)


def facts_of(events: Sequence[Event]) -> list[Facts]:
    """The index row facts of ``events``."""
    return [
        (e.time, e.kind, getattr(e, "strategy", None), getattr(e, "symbol", None)) for e in events
    ]


class IndexFeed:
    """Opens (or rebuilds) a run's index, catches it up with the log, then takes new lines.

    Args:
        run_dir: The run folder.
        log_path: Its ``events.jsonl``.
        size: Bytes of the log already committed (the index catches up to here).
    """

    def __init__(self, run_dir: Path, log_path: Path, size: int) -> None:
        path = run_dir / INDEX_NAME
        try:
            idx = JournalIndex(path)
            idx.catch_up(log_path, size)
        except JournalError as exc:
            log.warning("journal index unusable (%s); rebuilding it from the log", exc)
            idx = JournalIndex.rebuild(path)
            idx.catch_up(log_path, size)
        self.index = idx
        # Committed lines not yet in the index: one contiguous run starting at _from.
        self._from = (0, 0)
        self._facts: list[Facts] = []
        self._lines: list[bytes] = []
        self._flushed = time.monotonic()

    def add(self, first_seq: int, offset: int, facts: list[Facts], lines: list[bytes]) -> None:
        """Lines just committed (the first is event ``first_seq`` at byte ``offset``)."""
        if not self._lines:
            self._from = (first_seq, offset)
        self._facts += facts
        self._lines += lines
        if len(self._lines) >= INDEX_BATCH or time.monotonic() - self._flushed >= INDEX_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Insert the buffered rows."""
        self._flushed = time.monotonic()
        if not self._lines:
            return
        facts, lines = self._facts, self._lines
        self._facts = []
        self._lines = []
        self.index.add_lines(facts, lines, *self._from)

    def finish(self, finished: bool) -> None:
        """Insert what is left; a finished run's index is checkpointed."""
        self.flush()
        if finished:
            self.index.checkpoint()  # secondary indexes: built by the first query

    def close(self) -> None:
        """Close the index database."""
        self.index.close()
