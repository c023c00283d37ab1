"""A session in a child process, followed through its run folder: ``papertape run --tui``.

The engine runs in ``python -m papertape.engine.watch`` (a process of its own, so the
monitor's frames never take its interpreter), writes its journal as without a monitor, and
a lossy ``telemetry.jsonl`` beside it. :class:`ChildSession` starts it, waits for it to name
its run folder, then reads that folder with the same :class:`RunFolder` that
``papertape monitor RUN_DIR`` uses. Pause and pace go back through ``control.json``
(:func:`~papertape.engine.telemetry_file.write_control`); :meth:`ChildSession.stop` sends
SIGINT, which ends a replay at the end of a step with its journal resumable.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from papertape.engine.errors import ConfigError, PapertapeError, RunInterrupted
from papertape.engine.telemetry_file import ControlState, write_control
from papertape.engine.watch import CONFIG_FILE, OUTCOME_FILE, RUN_DIR_FILE
from papertape.monitor.source import RunFolder

if TYPE_CHECKING:
    from papertape.engine.assembly import SessionResult
    from papertape.engine.config import RunConfig
    from papertape.engine.telemetry import TelemetrySample

__all__ = ["ChildSession"]


class ChildSession:
    """Runs ``config`` in a child process and follows its run folder.

    Args:
        config: The run config (replay, backtest or live; its journal must be enabled).
        poll: Seconds between looks at the journal while it grows.
        python: The interpreter to start (default: this one).
    """

    MODULE = "papertape.engine.watch"  # what the child runs (``python -m``)

    def __init__(self, config: RunConfig, poll: float = 0.05, python: str | None = None) -> None:
        self.config = config
        self.title = config.run.name
        self.generation = 0  # bumped when the source moves to another run folder
        self.poll_s = poll
        self.python = python or sys.executable
        self.folder = Path(tempfile.mkdtemp(prefix="papertape-watch-"))
        self.run_dir: Path | None = None
        self.reader: RunFolder | None = None
        self.control_state = ControlState()
        self._proc: subprocess.Popen[bytes] | None = None
        self._outcome: Any = None

    @property
    def controllable(self) -> bool:
        """Whether pause and pace reach the engine (replays; a live feed cannot wait)."""
        return self.config.run.mode != "live"

    def launch(self) -> None:
        """Start the child; do not wait for it (:meth:`poll` attaches once it is under way).

        The monitor starts while the child imports and loads its data, so the monitor's own
        start-up never overlaps the engine's run.
        """
        with open(self.folder / CONFIG_FILE, "wb") as fh:
            pickle.dump(self.payload(), fh)
        env = dict(os.environ)
        path = env.get("PYTHONPATH", "")
        root = str(Path(__file__).resolve().parents[2])  # this checkout first, as here
        env["PYTHONPATH"] = root + (os.pathsep + path if path else "")
        with (
            open(self.folder / "stdout", "wb") as out,
            open(self.folder / "stderr", "wb") as err,
        ):
            # A session of its own: a Ctrl-C typed at the terminal reaches the parent only,
            # which stops the child itself (stop()), once.
            self._proc = subprocess.Popen(
                [self.python, "-m", self.MODULE, str(self.folder)],
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )

    def attach(self) -> bool:
        """Follow the run folder once the child named it; True when following.

        Raises:
            RunInterrupted: The child was stopped before it started its run.
            PapertapeError: The child ended without starting its run; its error is in the
                message.
        """
        if self.reader is not None:
            return True
        announced = self.folder / RUN_DIR_FILE
        if not announced.exists():
            if self._proc is not None and self._proc.poll() is not None:
                self.raise_failure()
                raise PapertapeError(f"{self.config.run.name}: the run ended before it started")
            return False
        self.run_dir = Path(announced.read_text(encoding="utf-8"))
        self.reader = RunFolder(self.run_dir, poll=self.poll_s)
        return True

    def start(self, timeout: float = 120.0) -> Path:
        """Start the child and wait until it names its run folder.

        Raises:
            ConfigError: It took ``timeout`` seconds to start.
            PapertapeError: The child ended before it started its run (see :meth:`attach`).
        """
        self.launch()
        deadline = time.monotonic() + timeout
        while not self.attach():
            if time.monotonic() > deadline:
                self.stop()
                raise ConfigError("--tui", self.config.run.name, "the run never started")
            time.sleep(0.02)
        assert self.run_dir is not None
        return self.run_dir

    def payload(self) -> Any:
        """What the child unpickles from ``config.pickle``."""
        return self.config

    @property
    def step(self) -> int | None:
        """The engine's step count at its newest telemetry sample (None: none yet)."""
        return self.reader.step if self.reader is not None else None

    def control_dir(self) -> Path | None:
        """Where ``control.json`` goes (the run folder, once known)."""
        return self.run_dir

    # -- EventSource -----------------------------------------------------------------------

    def poll(self) -> tuple[list[dict[str, Any]], list[TelemetrySample]]:
        """Events and samples the child wrote since the last call.

        Raises:
            PapertapeError: The child ended before it started its run (the monitor shows it).
        """
        if not self.attach():
            return [], []
        assert self.reader is not None
        return self.reader.poll()

    @property
    def running(self) -> bool:
        """Whether the child runs, or wrote something not read yet."""
        alive = self._proc is not None and self._proc.poll() is None
        return alive or (self.reader is not None and self.reader.running)

    @property
    def error(self) -> str | None:
        """Why the child failed, once it has (shown by the monitor's title)."""
        outcome = self.outcome()
        if isinstance(outcome, dict) and "error" in outcome:
            return ": ".join(outcome["error"])
        return None

    def close(self) -> None:
        """Stop following (the child is left alone: see :meth:`stop`)."""
        if self.reader is not None:
            self.reader.close()

    # -- control ---------------------------------------------------------------------------

    def control(self, state: ControlState) -> None:
        """Ask the engine to pause, resume or hold a pace (replays only; else ignored).

        Every request is written, even one equal to the last: another monitor attached to
        the run folder may have asked otherwise since (the last writer wins).
        """
        where = self.control_dir()
        if where is None or not self.controllable:
            return
        self.control_state = state
        write_control(where, state)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the child cleanly (SIGINT: end of the step, journal resumable); wait for it."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        where = self.control_dir()
        if where is not None and self.controllable:
            write_control(where, ControlState())  # a paused engine must see the signal
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the child to end; its exit status."""
        assert self._proc is not None
        return self._proc.wait(timeout)

    # -- outcome ---------------------------------------------------------------------------

    def outcome(self) -> Any:
        """What the child reported (None while it runs)."""
        if self._outcome is None:
            path = self.folder / OUTCOME_FILE
            if path.exists():
                with open(path, "rb") as fh:
                    self._outcome = pickle.load(fh)  # written by our own child
        return self._outcome

    def output(self) -> tuple[str, str]:
        """The child's stdout and stderr so far."""
        return (
            (self.folder / "stdout").read_text(encoding="utf-8", errors="replace"),
            (self.folder / "stderr").read_text(encoding="utf-8", errors="replace"),
        )

    def raise_failure(self) -> None:
        """Raise what ended the child if it did not finish (else return).

        Raises:
            RunInterrupted: It was stopped (the journal is resumable).
            PapertapeError: It failed; the message is its error (or its stderr).
        """
        outcome = self.outcome()
        if isinstance(outcome, dict) and "interrupted" in outcome:
            message, step, when, run_dir = outcome["interrupted"]
            raise RunInterrupted(message, step, when, run_dir)
        if isinstance(outcome, dict) and "error" in outcome:
            kind, message = outcome["error"]
            raise PapertapeError(f"{kind}: {message}")
        if outcome is None and self._proc is not None and self._proc.poll() not in (None, 0):
            tail = self.output()[1].strip().splitlines()[-5:]
            raise PapertapeError("the run's process failed: " + " / ".join(tail))

    def result(self) -> SessionResult | None:
        """The session's result once the child finished it, else None."""
        outcome = self.outcome()
        return None if outcome is None or isinstance(outcome, dict) else outcome

    def cleanup(self) -> None:
        """Remove the hand-over folder (the run folder stays)."""
        with contextlib.suppress(OSError):
            shutil.rmtree(self.folder)
