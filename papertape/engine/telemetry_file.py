"""Telemetry beside a run folder, and the small control file a watching monitor writes.

A monitor in *another process* (``papertape run CONFIG --tui`` runs the engine in a child
process; ``papertape monitor RUN_DIR`` attaches to any running folder) cannot share a
:class:`~papertape.engine.telemetry.TelemetryChannel`. The engine then offers its samples to
a :class:`TelemetryFile`, which writes them as JSON lines to ``<run>/telemetry.jsonl``
(replacing a previous run's), each with the engine's step count:

* lossy by design: at most one line per ``interval_s`` of wall time (20 a second by default);
  every other offer is dropped and counted. The outlet also tunes how often the engine builds
  a sample (``every``, doubled while offers come faster than a quarter of the interval,
  halved when they come slower than twice it), so a fast replay builds a few samples a
  second instead of one per step, and a live session samples every bar;
* the journal's bytes never change: the side file is a separate file, read by nobody but
  monitors, and the run's results do not depend on it.

:class:`RunControl` is how the monitors' pause and speed keys reach the engine: a monitor
writes ``<run>/control.json`` (``{"paused": bool, "pace": bars per second or null}``,
atomically); the outlet creates that file as the run starts (so any monitor attaching to the
folder knows the engine obeys it), looks at it at most every ``check_s`` from the engine's
thread, waits while it says paused, and sleeps to hold the pace. Several files may be
watched (an arena window: the hand-over folder's and its own); the newest one wins. Only
replays are controlled (a live feed cannot wait); quitting the monitor that started the run
stops the engine with SIGINT, which ends a replay cleanly at the end of a step (its journal
stays resumable).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from papertape.engine.telemetry import TelemetrySample

__all__ = [
    "CONTROL_NAME",
    "TELEMETRY_NAME",
    "ControlState",
    "RunControl",
    "TelemetryFile",
    "TelemetryTail",
    "obeys_control",
    "read_control",
    "sample_from_json",
    "sample_to_json",
    "write_control",
]

TELEMETRY_NAME = "telemetry.jsonl"
CONTROL_NAME = "control.json"
_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def _jsonable(value: Any) -> Any:
    return str(value)


def sample_to_json(
    sample: TelemetrySample, feed: Mapping[str, Any] | None = None, step: int | None = None
) -> bytes:
    """One sample as a JSON line.

    Args:
        sample: The engine's sample.
        feed: The live feed's counters, if any.
        step: The engine's step count at the sample (1 = its first step), if known.
    """
    doc = {
        "time": sample.time,
        "step": step,
        "wall_time": sample.wall_time,
        "equity": sample.equity,
        "positions": sample.positions,
        "marks": sample.marks,
        "annotations": sample.annotations,
        "lag_ns": sample.lag_ns,
        "feed": dict(feed) if feed is not None else sample.feed,
    }
    return orjson.dumps(doc, default=_jsonable, option=_OPTIONS) + b"\n"


def sample_from_json(line: bytes | str) -> TelemetrySample:
    """The sample one line of ``telemetry.jsonl`` holds.

    Raises:
        orjson.JSONDecodeError: The line is not JSON.
        KeyError: A required field is missing.
    """
    return _sample_of(orjson.loads(line))


def _sample_of(doc: dict[str, Any]) -> TelemetrySample:
    return TelemetrySample(
        time=int(doc["time"]),
        wall_time=float(doc["wall_time"]),
        equity=doc.get("equity") or {},
        positions=doc.get("positions") or {},
        marks=doc.get("marks") or {},
        annotations=doc.get("annotations") or {},
        lag_ns=doc.get("lag_ns"),
        feed=doc.get("feed"),
    )


@dataclass(frozen=True, slots=True)
class ControlState:
    """What the monitor asks of the engine.

    Attributes:
        paused: Wait at the end of the current step until resumed.
        pace: Steps per second to hold at most; None: as fast as the CPU allows.
    """

    paused: bool = False
    pace: float | None = None


def write_control(run_dir: str | Path, state: ControlState) -> None:
    """Write ``control.json`` atomically (the engine never reads half a file)."""
    folder = Path(run_dir)
    tmp = folder / (CONTROL_NAME + f".{os.getpid()}.tmp")
    tmp.write_bytes(orjson.dumps({"paused": state.paused, "pace": state.pace}))
    os.replace(tmp, folder / CONTROL_NAME)


def obeys_control(run_dir: str | Path) -> bool:
    """Whether the engine writing ``run_dir`` (while it runs) obeys its ``control.json``.

    An engine that obeys one creates it as it starts (:class:`TelemetryFile`); a plain
    ``papertape run`` and a live session never do.
    """
    return (Path(run_dir) / CONTROL_NAME).exists()


class RunControl:
    """Reads control files from the engine's thread, at most every ``check_s``.

    It watches one file or several (an arena window obeys the hand-over folder's and its own
    run folder's); the one modified last is obeyed, so the last monitor to write wins.

    Args:
        path: The control file (it may not exist: then nothing is asked).
        check_s: Seconds between looks at the files' modification times.
    """

    def __init__(self, path: str | Path, check_s: float = 0.1) -> None:
        self.path = Path(path)
        self.paths: list[Path] = [self.path]
        self.check_s = check_s
        self.state = ControlState()
        self._seen: tuple[Path, int] | None = None  # the file obeyed and its mtime
        self._next = 0.0

    def watch(self, path: str | Path) -> None:
        """Obey ``path`` too (when it is the newest of the files)."""
        if Path(path) not in self.paths:
            self.paths.append(Path(path))
            self._next = 0.0

    def unwatch(self, path: str | Path) -> None:
        """Stop obeying ``path`` (the first file given is always kept)."""
        if Path(path) in self.paths[1:]:
            self.paths.remove(Path(path))
            self._next = 0.0

    def newest(self, paths: list[Path] | None = None) -> tuple[Path, int] | None:
        """The most recently modified of ``paths`` (default: all watched) and its mtime."""
        best: tuple[Path, int] | None = None
        for path in self.paths if paths is None else paths:
            try:
                mtime = path.stat().st_mtime_ns
            except OSError:
                continue
            if best is None or mtime > best[1]:
                best = (path, mtime)
        return best

    def refresh(self, now: float) -> ControlState:
        """The current request (re-read when the newest file changed since the last look)."""
        if now < self._next:
            return self.state
        self._next = now + self.check_s
        found = self.newest()
        if found is not None and found != self._seen:
            self._seen = found
            self.state = read_control(found[0], self.state)
        return self.state


def read_control(path: str | Path, default: ControlState | None = None) -> ControlState:
    """The request a control file holds; ``default`` when it is missing, foreign or torn."""
    try:
        doc = orjson.loads(Path(path).read_bytes())
        pace = doc.get("pace")
        return ControlState(bool(doc.get("paused", False)), float(pace) if pace else None)
    except (OSError, orjson.JSONDecodeError, TypeError, ValueError, AttributeError):
        return ControlState() if default is None else default


class TelemetryFile:
    """A telemetry outlet that appends sampled lines to a file (see the module docs).

    With a ``control``, the outlet also obeys ``control.json`` in its own folder (the run
    folder), whichever monitor writes it: it creates that file at start, holding what the
    control's other files ask (nothing, for a run of its own: a previous run's leftover
    request is reset), which tells a monitor attaching to the folder that the engine obeys
    it (:func:`obeys_control`). Each line carries the engine's step count, kept exactly: the
    engine offers at the first step that is a multiple of ``every``.

    Args:
        path: The side file (``<run>/telemetry.jsonl``); a previous run's is replaced.
        interval_s: Wall seconds between written samples at least.
        control: Pause and pace requests to obey (replays only), or None.
        feed: Returns the live feed's counters for each written line, or None.
        clock: Monotonic seconds (tests pass a fake one).
        sleep: Sleeps that many seconds (tests pass a fake one).
    """

    MAX_EVERY = 4096

    def __init__(
        self,
        path: str | Path,
        interval_s: float = 0.05,
        control: RunControl | None = None,
        feed: Callable[[], Mapping[str, Any]] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.path = Path(path)
        self.interval_s = interval_s
        self.control = control
        self.feed = feed
        self.every = 1
        self.offered = 0
        self.written = 0
        self.dropped = 0
        self.paused_s = 0.0
        self.step = 0  # the engine's step at the last offer
        self._clock = clock
        self._sleep = sleep
        self._fh = open(self.path, "wb")  # noqa: SIM115 - closed by close()
        self._own_control = self.path.parent / CONTROL_NAME
        if control is not None:
            others = [p for p in control.paths if p != self._own_control]
            found = control.newest(others)
            write_control(self.path.parent, read_control(found[0]) if found else ControlState())
            control.watch(self._own_control)
        self._last_offer = clock()
        self._next_write = 0.0
        self._paced_from: tuple[float, int, float] | None = None  # (clock, offered, pace)

    def offer(self, sample: TelemetrySample) -> bool:
        """Write the sample if its interval has passed (else drop it); obey the control file.

        Returns:
            Whether the sample was written.
        """
        now = self._clock()
        self.offered += 1
        self.step = (self.step // self.every + 1) * self.every  # before `every` changes
        since = now - self._last_offer
        self._last_offer = now
        paced = False
        if self.control is not None:
            now, paced = self._obey(now)
        if paced:
            self.every = 1  # fine-grained sleeps
        elif since < self.interval_s / 4 and self.every < self.MAX_EVERY:
            self.every *= 2
        elif since > self.interval_s * 2 and self.every > 1:
            self.every //= 2
        if now < self._next_write:
            self.dropped += 1
            return False
        self._next_write = now + self.interval_s
        try:
            feed = self.feed() if self.feed is not None else None
            self._fh.write(sample_to_json(sample, feed, self.step))
            self._fh.flush()
        except (OSError, ValueError, TypeError):  # closed, disk full, odd annotation: lossy
            self.dropped += 1
            return False
        self.written += 1
        return True

    def _obey(self, now: float) -> tuple[float, bool]:
        """Wait while paused, sleep to hold the pace; the clock after waiting, and if paced."""
        control = self.control
        assert control is not None
        state = control.refresh(now)
        if state.paused:
            start = now
            while state.paused:
                self._sleep(control.check_s / 2)
                now = self._clock()
                state = control.refresh(now)
            self.paused_s += now - start
            self._paced_from = None
            self._last_offer = now
        if state.pace is None:
            self._paced_from = None
            return now, False
        # Paced (the engine offers every step): sleep until the steps done since the pace
        # was set are due.
        if self._paced_from is None or self._paced_from[2] != state.pace:
            self._paced_from = (now, self.offered, state.pace)
            return now, True
        t0, n0, pace = self._paced_from
        due = t0 + (self.offered - n0) / pace
        if due > now:
            self._sleep(due - now)
            now = self._clock()
        elif now - due > 1.0:  # fell behind (slow strategies): do not burst to catch up
            self._paced_from = (now, self.offered, pace)
        self._last_offer = now
        return now, True

    def close(self) -> None:
        """Close the side file (and stop obeying this folder's control file)."""
        self._fh.close()
        if self.control is not None and self._own_control != self.control.path:
            self.control.unwatch(self._own_control)


class TelemetryTail:
    """Reads the whole lines appended to a ``telemetry.jsonl`` since the last call.

    Never blocks; a line still being written stays buffered; a line that does not parse is
    skipped and counted (the side file is lossy by contract, never a reason to fail).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.offset = 0
        self.skipped = 0
        self.step: int | None = None  # the engine's step count at the newest line read
        self._partial = b""

    def read(self) -> list[TelemetrySample]:
        """Samples appended since the last call, oldest first."""
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                chunk = fh.read()
        except FileNotFoundError:
            return []
        if not chunk:
            return []
        self.offset += len(chunk)
        data = self._partial + chunk
        lines = data.split(b"\n")
        self._partial = lines.pop()
        out = []
        for line in lines:
            if not line.strip():
                continue
            try:
                doc = orjson.loads(line)
                out.append(_sample_of(doc))
                if doc.get("step") is not None:
                    self.step = int(doc["step"])
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                self.skipped += 1
        return out
