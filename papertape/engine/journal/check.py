"""Checking a re-run against the log it resumes, without touching that log.

A resumed run is re-executed from its first event (see :mod:`engine.journal.replay.resume`).
:class:`LogCheck` reads the original log once, front to back, and holds the next *intact* line:
one that ends with a newline, parses as an object with an integer ``seq`` and a string ``kind``,
and continues the ``seq`` order. A damaged line (garbage, zeros left by a power loss, a line out
of sequence) is skipped and reported, never a cut point: the events after it are still checked.
A torn last line (no newline) is ignored and reported in bytes.

Every event the re-run emits with the ``seq`` of the next intact line must equal that line byte
for byte, or :meth:`LogCheck.check` raises. Events at the position of a damaged line cannot be
checked: they are counted as *rewritten*.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson

from papertape.engine.errors import JournalError
from papertape.engine.journal.jsonl import complete_size, scan_lines

__all__ = ["LogCheck"]

MAX_LISTED = 50  # damaged line numbers kept for the report (all are counted)


class LogCheck:
    """The original log of a resumed run, compared event by event with the re-run.

    Args:
        path: The log (``events.jsonl``); only read.
        run_name: The run's name, for messages.
    """

    def __init__(self, path: Path, run_name: str) -> None:
        self.path = path
        self.run_name = run_name
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise JournalError(f"cannot read journal {path}: {exc}") from exc
        complete = complete_size(path)
        self.torn_bytes = size - complete
        self.verified = 0
        self.rewritten = 0
        self.damaged: list[int] = []  # 1-based line numbers, the first MAX_LISTED
        self.damaged_count = 0
        self.damaged_bytes = 0
        self._lines: Iterator[tuple[int, bytes]] = scan_lines(path, 0, complete)
        self._line_no = 0
        self._last_seq = -1
        self._head: tuple[int, bytes] | None = None
        self._advance()

    @property
    def done(self) -> bool:
        """True once every intact line of the log has been matched."""
        return self._head is None

    def _advance(self) -> None:
        for _, line in self._lines:
            self._line_no += 1
            seq = _intact_seq(line)
            if seq is None or seq <= self._last_seq:
                self.damaged_count += 1
                self.damaged_bytes += len(line) + 1
                if len(self.damaged) < MAX_LISTED:
                    self.damaged.append(self._line_no)
                continue
            self._last_seq = seq
            self._head = (seq, line)
            return
        self._head = None

    def check(self, seq: int, line: bytes) -> None:
        """Compare the re-run's event ``seq`` (its encoded ``line``) with the log.

        Raises:
            JournalError: The log's intact event ``seq`` differs from ``line``.
        """
        head = self._head
        if head is None:
            return  # past the end of the log: appended
        if seq < head[0]:
            self.rewritten += 1  # the log's line for this event is damaged or missing
            return
        if head[1] != line:
            raise JournalError(
                f"cannot resume {self.run_name}: event {seq} of the re-run differs from the "
                "journal, so the config, the data or the code changed since it was written; "
                "the journal was left as it was.\n"
                f"  journal: {head[1][:300].decode(errors='replace')}\n"
                f"  re-run:  {line[:300].decode(errors='replace')}"
            )
        self.verified += 1
        self._advance()

    def unmatched(self) -> int | None:
        """The ``seq`` of the first intact log event the re-run has not reached, if any."""
        return None if self._head is None else self._head[0]

    def close(self) -> None:
        """Stop reading the log."""
        close = getattr(self._lines, "close", None)
        if close is not None:
            close()
        self._head = None

    def report(self) -> dict[str, object]:
        """What the check found, for the manifest's resume record."""
        return {
            "verified": self.verified,
            "rewritten": self.rewritten,
            "torn_bytes": self.torn_bytes,
            "damaged_count": self.damaged_count,
            "damaged_lines": list(self.damaged),
            "damaged_bytes": self.damaged_bytes,
        }


def _intact_seq(line: bytes) -> int | None:
    """The ``seq`` of a well-formed event line, None for a damaged one."""
    try:
        rec = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(rec, dict) or not isinstance(rec.get("kind"), str):
        return None
    seq = rec.get("seq")
    return seq if isinstance(seq, int) and not isinstance(seq, bool) and seq >= 0 else None
