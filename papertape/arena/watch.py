"""An arena run for a monitor in another process: ``python -m papertape.arena.watch DIR``.

``papertape arena CONFIG --tui`` starts this module in a child process (as ``papertape run
--tui`` starts :mod:`papertape.engine.watch`) and talks to it through files:

* ``DIR/config.pickle`` (parent → child): ``{"config": ArenaConfig, "windows": N or None}``;
* ``DIR/run_dir`` (child → parent, replaced at each window): the journal folder of the
  window being played, which the monitor follows with its telemetry side file;
* ``DIR/progress.json`` (child → parent, replaced at each window's start and end): the arena
  id, windows done and planned, the window being played, and the leaderboard of the windows
  done so far (``summary`` of :mod:`papertape.arena.store`);
* ``DIR/control.json`` (parent → child): pause and pace, obeyed by every window;
* ``DIR/outcome.pickle``: ``{"arena": folder, "summary": ...}``, or ``{"interrupted":
  [...]}`` / ``{"error": [...]}`` as for a run.
"""

from __future__ import annotations

import json
import os
import pickle
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from papertape.arena.leaderboard import build_leaderboard
from papertape.arena.runner import ArenaRun, run_arena
from papertape.arena.store import arena_document, summary, write_arena
from papertape.arena.windows import Window
from papertape.engine.errors import RunInterrupted
from papertape.engine.telemetry_file import CONTROL_NAME, TELEMETRY_NAME, RunControl, TelemetryFile
from papertape.engine.watch import CONFIG_FILE, OUTCOME_FILE, RUN_DIR_FILE

if TYPE_CHECKING:
    from papertape.arena.config import ArenaConfig
    from papertape.engine.loop import Engine

__all__ = ["PROGRESS_FILE", "ArenaProgress", "main"]

PROGRESS_FILE = "progress.json"


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class ArenaProgress:
    """An :class:`~papertape.arena.runner.ArenaObserver` that writes ``progress.json``.

    Args:
        folder: The hand-over folder.
        planned: Windows planned in all (every variant).
        arena_id: The arena's id (its run folder's name).
    """

    def __init__(self, folder: Path, planned: int, arena_id: str) -> None:
        self.folder = folder
        self.control = RunControl(folder / CONTROL_NAME)
        self.doc: dict[str, Any] = {
            "arena_id": arena_id,
            "planned": planned,
            "done": 0,
            "current": None,
            "summary": None,
        }
        self._outlet: TelemetryFile | None = None

    def window_started(
        self, window: Window, blind: bool, engine: Engine, run_dir: Path | None
    ) -> None:
        """Attach telemetry and control to the window's engine; name its journal."""
        self._close()
        if run_dir is not None:
            self._outlet = TelemetryFile(run_dir / TELEMETRY_NAME, control=self.control)
            engine.settings.telemetry = self._outlet
            _write(self.folder / RUN_DIR_FILE, str(run_dir.resolve()))
        self.doc["current"] = {
            "label": window.label,
            "blind": blind,
            "run_dir": str(run_dir.resolve()) if run_dir is not None else None,
        }
        self._save()

    def window_finished(self, so_far: ArenaRun) -> None:
        """Record the leaderboard of every window done."""
        self._close()
        self.doc["done"] = len(so_far.windows)
        self.doc["summary"] = _summary_so_far(so_far)
        self._save()

    def _close(self) -> None:
        if self._outlet is not None:
            self._outlet.close()
            self._outlet = None

    def _save(self) -> None:
        _write(self.folder / PROGRESS_FILE, json.dumps(self.doc, default=str))


def _summary_so_far(run: ArenaRun) -> dict[str, Any]:
    """``summary`` of the windows done; a tape none of whose windows ended has no board yet.

    ``blind = "both"`` plays every real window before the blind ones, so after the first
    window the blind leaderboard would have no window to rank.
    """
    modes = run.config.arena.blind_modes
    if all(run.variant(blind) for blind in modes):
        return summary(run)
    boards = {
        ("blind" if blind else "real"): build_leaderboard(run, blind)
        for blind in modes
        if run.variant(blind)
    }
    return {"arena_id": run.arena_id, "leaderboards": boards, "blinding": None}


def _planned(config: ArenaConfig, windows: int | None) -> int:
    settings = config.arena
    count = windows if windows is not None else settings.windows
    n = count if isinstance(count, int) else len(count)
    return n * len(settings.blind_modes)


def _outcome(config: ArenaConfig, windows: int | None, folder: Path) -> dict[str, Any]:
    from papertape.arena.runner import arena_id

    progress = ArenaProgress(folder, _planned(config, windows), arena_id(config))
    try:
        run = run_arena(config, windows=windows, observer=progress)
    except RunInterrupted as exc:
        current = progress.doc["current"] or {}
        run_dir = exc.run_dir or current.get("run_dir")  # the window's journal, resumable
        return {"interrupted": [str(exc), exc.step, exc.time, run_dir]}
    except KeyboardInterrupt:  # stopped between windows (no engine step to finish)
        return {"interrupted": ["interrupted between windows", 0, 0, None]}
    except Exception as exc:  # reported by the parent, which owns the terminal
        return {"error": [type(exc).__name__, str(exc)]}
    finally:
        progress._close()
    doc = arena_document(run)
    out = write_arena(doc, config.run.journal.dir)
    return {
        "arena": str(out),
        "summary": doc["summary"],
        "skipped": list(run.skipped),
        "sessions": len(run.windows),
        "seconds": run.seconds,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the arena described in ``DIR/config.pickle``; write ``DIR/outcome.pickle``."""
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0])
    with open(folder / CONFIG_FILE, "rb") as fh:
        given = pickle.load(fh)  # written by our own parent process
    outcome = _outcome(given["config"], given["windows"], folder)
    tmp = folder / (OUTCOME_FILE + ".tmp")
    with open(tmp, "wb") as fh:
        pickle.dump(outcome, fh)
    os.replace(tmp, folder / OUTCOME_FILE)
    return 0 if "arena" in outcome else 1


if __name__ == "__main__":
    sys.exit(main())
