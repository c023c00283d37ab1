r"""Follow a run folder from another process: its events as they are committed.

:func:`follow` tails ``<run_dir>/events.jsonl`` and yields each event as a dict once its whole
line is in the file. What it relies on (see docs/events.md, "Following a running session"):

* the writer appends whole lines of whole ticks (one ``write`` per tick, or per batch of ticks
  with a replay's ``batch`` durability), each ending in ``\n``; a reader that
  parses only up to the last newline never sees a torn line (a crash can leave one at the end;
  it is never parsed, and a resume cuts it off);
* ``seq`` numbers the events from 0 without gaps, so a reader knows where it is;
* ``<run_dir>/.lock`` is held (``flock``) by the writing process while the run goes on: no lock
  and nothing new means the run finished or was interrupted;
* a resume (``papertape run --resume``) first cuts a torn last line, then *checks* the re-run
  against the log without writing, then appends after the last line: a reader sees the file
  stop growing and then grow again with the next ``seq``. Only a damaged tail (a power loss
  without ``fsync`` durability) makes the resume truncate whole lines and write them again:
  :func:`follow` then re-reads from the cut and skips the ``seq`` numbers it already yielded.
  A new run in the same folder (not a resume) empties the file; :func:`follow` notices that
  the first line changed and starts again from ``from_seq``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from papertape.engine.errors import JournalError
from papertape.engine.journal.jsonl import LOG_NAME, decode_line
from papertape.engine.journal.lock import is_live

__all__ = ["follow"]

_READ = 1 << 20


def follow(
    run_dir: str | os.PathLike[str],
    *,
    from_seq: int = 0,
    poll: float = 0.1,
    stop_when_finished: bool = True,
) -> Iterator[dict[str, Any]]:
    """Yield the events of a run folder as whole lines appear, from event ``from_seq`` on.

    Args:
        run_dir: The run folder (``journals/<run-id>``); it may not exist yet.
        from_seq: The first event to yield (to continue after a reader restart).
        poll: Seconds between looks at the file when nothing new is there.
        stop_when_finished: Return after ``run_finished``, or when no process holds the
            writer lock and nothing new arrived (an interrupted run). With False, keep
            waiting forever (e.g. for a resume); the caller stops by closing the iterator.

    Raises:
        JournalError: A complete line does not parse (the file is not a journal).
    """
    folder = Path(run_dir)
    path = folder / LOG_NAME
    offset = 0
    buffered = b""
    next_seq = from_seq
    first_line: bytes | None = None
    before_cut: bytes | None = None  # the first line before a truncation, to tell a new run
    while True:
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            size = -1
        if 0 <= size < offset:  # truncated: a resume cut a damaged tail, or a new run began
            offset, buffered = 0, b""
            before_cut, first_line = first_line, None
        grew = False
        if size > offset:
            with open(path, "rb") as fh:
                fh.seek(offset)
                block = fh.read(min(size - offset, _READ))
            offset += len(block)
            grew = True
            data = buffered + block
            cut = data.rfind(b"\n")
            lines, buffered = (data[:cut].split(b"\n"), data[cut + 1 :]) if cut >= 0 else ([], data)
            for line in lines:
                if first_line is None:
                    first_line = line
                    if before_cut is not None and line != before_cut:
                        next_seq = from_seq  # another run in this folder: from the start
                    before_cut = None
                event = decode_line(line)
                seq = event.get("seq")
                if not isinstance(seq, int):
                    raise JournalError(f"{path}: a line without a seq number: {line[:80]!r}")
                if seq < next_seq:
                    continue
                next_seq = seq + 1
                yield event
                if stop_when_finished and event.get("kind") == "run_finished":
                    return
        if grew:
            continue
        if stop_when_finished and size >= 0 and not is_live(folder):
            # the writer is gone: one last look, so lines written just before it let go count
            if path.stat().st_size == offset:
                return
            continue
        time.sleep(poll)
