"""An arena in a child process: the window being played, and the leaderboard so far.

:class:`ArenaSession` starts ``python -m papertape.arena.watch`` (see that module for the
files it writes) and follows the journal of the window being played, moving to the next
window's folder when the child names it (the monitor then starts a fresh timeline: its
``generation`` changes). ``progress`` is the child's latest ``progress.json``: windows done
and planned, the window being played, and the arena leaderboard of the windows done.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from papertape.arena.watch import PROGRESS_FILE
from papertape.engine.watch import RUN_DIR_FILE
from papertape.monitor.child import ChildSession
from papertape.monitor.source import RunFolder

if TYPE_CHECKING:
    from papertape.arena.config import ArenaConfig
    from papertape.engine.telemetry import TelemetrySample

__all__ = ["ArenaSession"]


class ArenaSession(ChildSession):
    """Runs an arena in a child process; follows each window's journal in turn.

    Args:
        config: The arena config.
        windows: ``--windows N`` (None: the config's).
        poll: Seconds between looks at a growing journal.
    """

    MODULE = "papertape.arena.watch"

    def __init__(self, config: ArenaConfig, windows: int | None = None, poll: float = 0.05) -> None:
        super().__init__(config.run, poll=poll)
        self.arena = config
        self.windows = windows
        self.progress: dict[str, Any] = {}
        self.progress_version = 0  # bumped at each new progress.json (the monitor redraws)
        self._progress_mtime = 0

    def payload(self) -> Any:
        """The arena config and the windows override."""
        return {"config": self.arena, "windows": self.windows}

    def control_dir(self) -> Path | None:
        """Every window obeys the hand-over folder's ``control.json``."""
        return self.folder

    def poll(self) -> tuple[list[dict[str, Any]], list[TelemetrySample]]:
        """The current window's events and samples (a new window starts a new generation)."""
        self._read_progress()
        announced = self.folder / RUN_DIR_FILE
        if self.attach() and announced.exists():
            current = Path(announced.read_text(encoding="utf-8"))
            if current != self.run_dir and self.reader is not None:
                self.reader.close()
                self.run_dir = current
                self.reader = RunFolder(current, poll=self.poll_s)
                self.generation += 1
        return super().poll()

    def _read_progress(self) -> None:
        path = self.folder / PROGRESS_FILE
        try:
            mtime = path.stat().st_mtime_ns
        except FileNotFoundError:
            return
        if mtime != self._progress_mtime:
            self._progress_mtime = mtime
            try:
                self.progress = json.loads(path.read_text(encoding="utf-8"))
                self.progress_version += 1
            except (OSError, ValueError):
                self._progress_mtime = 0  # replaced while read: next frame

    @property
    def window_title(self) -> str:
        """``<arena id> · window <label> (k/N)`` for the monitor's title."""
        p = self.progress
        current = p.get("current") or {}
        label = str(current.get("label", "?")) + (" blind" if current.get("blind") else "")
        done, planned = int(p.get("done", 0)), p.get("planned", "?")
        return f"{p.get('arena_id', self.title)} · window {label} ({done}/{planned} done)"

    def leaderboard(self) -> list[dict[str, Any]]:
        """The arena leaderboard rows of the windows done (real tape first), best first."""
        summary = self.progress.get("summary") or {}
        boards = summary.get("leaderboards") or {}
        board = boards.get("real") or boards.get("blind") or {}
        return list(board.get("rows") or [])
