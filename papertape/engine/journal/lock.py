"""One writer per run folder: an exclusive ``flock`` on ``<run_dir>/.lock``.

The kernel drops the lock when its process dies, however it dies (``kill -9`` included), so a
lock held means a writer is alive, and a stale lock cannot exist.
"""

from __future__ import annotations

import contextlib
import fcntl
from pathlib import Path
from typing import IO

from papertape.engine.errors import JournalError

__all__ = ["RunLock", "is_live"]

LOCK_NAME = ".lock"


class RunLock:
    """The writer lock of a run folder, taken on creation.

    Raises:
        JournalError: Another process holds it.
    """

    def __init__(self, run_dir: Path) -> None:
        fh = open(run_dir / LOCK_NAME, "a+", encoding="utf-8")  # noqa: SIM115 - held open
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            raise JournalError(
                f"{run_dir} is being written by another process; stop it first"
            ) from None
        self._fh: IO[str] | None = fh

    def release(self) -> None:
        """Let go of the lock (idempotent)."""
        if self._fh is None:
            return
        with contextlib.suppress(OSError):
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
        self._fh.close()
        self._fh = None


def is_live(run_dir: str | Path) -> bool:
    """True while a process holds the run folder's writer lock (the run is going on)."""
    try:
        fh = open(Path(run_dir) / LOCK_NAME, encoding="utf-8")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        fh.close()
    return False
