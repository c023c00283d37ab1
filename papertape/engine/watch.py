"""A session run for a monitor in another process: ``python -m papertape.engine.watch DIR``.

``papertape run CONFIG --tui`` starts this module in a child process so the engine has an
interpreter (and a core) of its own: the monitor's frames never take the engine's time. The
parent and the child talk through files only:

* ``DIR/config.pickle`` (parent → child): the resolved :class:`RunConfig`;
* ``DIR/run_dir`` (child → parent, written atomically once the journal is open): the run
  folder the monitor then follows, as ``papertape monitor`` does — ``events.jsonl`` plus the
  lossy ``telemetry.jsonl`` (:mod:`papertape.engine.telemetry_file`);
* ``<run folder>/control.json`` (parent → child): pause and pace of a replay;
* ``DIR/outcome.pickle`` (child → parent): the :class:`SessionResult`, or how the run was
  interrupted (``{"interrupted": [message, step, time, run_dir]}``) or failed
  (``{"error": [type name, message]}``);
* ``DIR/engine.json`` (child → parent): the engine's steps, wall and CPU seconds (for
  ``benchmarks/bench_tui.py``);
* ``DIR/stdout``, ``DIR/stderr``: the child's output (the parent prints it after the monitor
  closes; the terminal belongs to the monitor meanwhile).

SIGINT (the parent forwards its quit key) stops a replay at the end of a step and a live
session at its next message, exactly as Ctrl-C does in ``papertape run``.
"""

from __future__ import annotations

import asyncio
import json
import os
import pickle
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from papertape.engine.errors import ConfigError, RunInterrupted
from papertape.engine.telemetry_file import CONTROL_NAME, TELEMETRY_NAME, RunControl, TelemetryFile

if TYPE_CHECKING:
    from papertape.engine.assembly import SessionResult
    from papertape.engine.config import RunConfig

__all__ = [
    "CONFIG_FILE",
    "ENGINE_FILE",
    "OUTCOME_FILE",
    "RUN_DIR_FILE",
    "main",
    "watched_session",
]

CONFIG_FILE = "config.pickle"
RUN_DIR_FILE = "run_dir"
ENGINE_FILE = "engine.json"
OUTCOME_FILE = "outcome.pickle"


def _announce(folder: Path, run_dir: Path) -> None:
    tmp = folder / (RUN_DIR_FILE + ".tmp")
    tmp.write_text(str(run_dir.resolve()), encoding="utf-8")
    os.replace(tmp, folder / RUN_DIR_FILE)


def watched_session(config: RunConfig, folder: Path) -> SessionResult:
    """Run ``config`` with its telemetry in its run folder; announce the folder in ``folder``.

    Raises:
        ConfigError: The run writes no journal (nothing for a monitor to follow).
        RunInterrupted: SIGINT stopped a replay (resumable).
    """
    if not config.journal.enabled:
        raise ConfigError("journal.enabled", False, "--tui follows the journal: enable it")
    if config.run.mode == "live":
        return _live(config, folder)
    from papertape.engine.session import build_engine, results_of

    engine, writer = build_engine(config)
    assert writer is not None
    run_dir = Path(writer.run_dir)
    outlet = TelemetryFile(run_dir / TELEMETRY_NAME, control=RunControl(run_dir / CONTROL_NAME))
    engine.settings.telemetry = outlet
    _announce(folder, run_dir)
    start = time.perf_counter()
    cpu = time.process_time()
    try:
        engine.run_sync()
    except RunInterrupted as exc:
        exc.run_dir = str(run_dir)
        raise
    finally:
        writer.close()
        outlet.close()
    # The engine's own time, without the time it spent paused by the monitor.
    seconds = time.perf_counter() - start - outlet.paused_s
    facts = {"steps": engine.step_count, "seconds": seconds, "cpu_s": time.process_time() - cpu}
    (folder / ENGINE_FILE).write_text(json.dumps(facts), encoding="utf-8")
    return results_of(engine, seconds, writer)


def _live(config: RunConfig, folder: Path) -> SessionResult:
    from papertape.engine.live.session import LiveSession, session_config

    session = LiveSession(session_config(config))
    assert session.writer is not None
    run_dir = Path(session.writer.run_dir)
    outlet = TelemetryFile(run_dir / TELEMETRY_NAME, feed=session.feed.stats.as_dict)
    session.engine.settings.telemetry = outlet
    _announce(folder, run_dir)
    try:
        return asyncio.run(session.run())
    finally:
        outlet.close()


def _outcome(config: RunConfig, folder: Path) -> Any:
    try:
        return watched_session(config, folder)
    except RunInterrupted as exc:
        return {"interrupted": [str(exc), exc.step, exc.time, exc.run_dir]}
    except KeyboardInterrupt:  # stopped before the first step (or a second Ctrl-C)
        return {"interrupted": ["interrupted before the run could stop cleanly", 0, 0, None]}
    except Exception as exc:  # reported by the parent, which owns the terminal
        return {"error": [type(exc).__name__, str(exc)]}


def main(argv: list[str] | None = None) -> int:
    """Run the session described in ``DIR/config.pickle``; write ``DIR/outcome.pickle``."""
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0])
    with open(folder / CONFIG_FILE, "rb") as fh:
        config = pickle.load(fh)  # written by our own parent process
    outcome = _outcome(config, folder)
    tmp = folder / (OUTCOME_FILE + ".tmp")
    with open(tmp, "wb") as fh:
        pickle.dump(outcome, fh)
    os.replace(tmp, folder / OUTCOME_FILE)
    return 0 if not isinstance(outcome, dict) else 1


if __name__ == "__main__":
    sys.exit(main())
