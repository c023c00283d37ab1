"""Where the monitor's events come from: a finished run folder, a running one, or a session here.

Every source has one method the UI calls on its own timer, :meth:`EventSource.poll`, which
returns what arrived since the last call and never blocks. The engine is never waited for:

* :class:`RunFolder` reads a run folder. A finished run is read whole at once; a running one
  (another process holds its lock) is tailed by :func:`papertape.engine.journal.follow` in a
  daemon thread that only appends to a queue. Either way the folder's lossy telemetry side
  file (``telemetry.jsonl``, written when a monitor watches the run: see
  :mod:`papertape.engine.telemetry_file`) is read too.
* :class:`~papertape.monitor.child.ChildSession` runs a session in a child process and
  follows its run folder like this (``papertape run CONFIG --tui``).
* :class:`InProcessSession` runs a config's session in a worker thread with a
  :class:`~papertape.engine.telemetry.TelemetryChannel` (lossy: a full channel drops samples,
  the engine never waits) and an event tap (one ``deque.extend`` per tick that emitted
  events; the frozen events are turned into journal dicts on the UI side, not the engine's).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from papertape.engine.hookspecs import hookimpl
from papertape.engine.journal import encode_event, follow, is_live, read_journal
from papertape.engine.telemetry import TelemetryChannel, TelemetrySample
from papertape.engine.telemetry_file import (
    TELEMETRY_NAME,
    ControlState,
    TelemetryTail,
    obeys_control,
    write_control,
)

if TYPE_CHECKING:
    from papertape.engine.config import RunConfig
    from papertape.engine.events import Event

__all__ = ["EventSource", "EventTap", "InProcessSession", "RunFolder"]


class EventSource(Protocol):
    """What the monitor reads from."""

    title: str

    def poll(self) -> tuple[list[dict[str, Any]], list[TelemetrySample]]:
        """Events and samples that arrived since the last call (never blocks)."""
        ...

    @property
    def running(self) -> bool:
        """Whether more may still arrive."""
        ...

    def close(self) -> None:
        """Stop reading (threads end on their own; the run is not touched)."""
        ...


class RunFolder:
    """A run folder (``journals/<run-id>``): read whole if finished, followed if running.

    A running replay whose engine obeys the folder's ``control.json`` (started with
    ``--tui``, or an arena window watched with ``arena --tui``) is :attr:`controllable`:
    this monitor's pause and pace reach it like the parent's do (the last writer wins).
    Anything else is read-only.

    Args:
        run_dir: The run folder.
        poll: Seconds between looks at a running journal's file.
    """

    def __init__(self, run_dir: str | Path, poll: float = 0.1) -> None:
        self.run_dir = Path(run_dir)
        self.title = self.run_dir.name
        self._queue: deque[dict[str, Any]] = deque()
        self._done = threading.Event()
        self._error: BaseException | None = None
        self.telemetry = TelemetryTail(self.run_dir / TELEMETRY_NAME)
        self.followed = is_live(self.run_dir)  # another process is writing it
        self.control_state = ControlState()
        self._asked = False  # whether this monitor wrote control.json
        if self.followed:
            self._thread: threading.Thread | None = threading.Thread(
                target=self._follow, args=(poll,), name="papertape-follow", daemon=True
            )
            self._thread.start()
        else:
            self._queue.extend(read_journal(self.run_dir))
            self._thread = None
            self._done.set()

    def _follow(self, poll: float) -> None:
        try:
            for event in follow(self.run_dir, poll=poll):
                self._queue.append(event)
                if self._done.is_set():
                    return
        except BaseException as exc:  # surfaced by poll(), not lost in a thread
            self._error = exc
        finally:
            self._done.set()

    def poll(self) -> tuple[list[dict[str, Any]], list[TelemetrySample]]:
        """Events read since the last call.

        Raises:
            JournalError: The follower met a line that is not a journal event.
        """
        out = _drain(self._queue)
        if self._error is not None and not self._queue:
            raise self._error
        return out, self.telemetry.read()

    @property
    def running(self) -> bool:
        """Whether the follower may still yield."""
        return not self._done.is_set() or bool(self._queue)

    @property
    def step(self) -> int | None:
        """The engine's step count at its newest telemetry sample (None: no side file)."""
        return self.telemetry.step

    @property
    def controllable(self) -> bool:
        """Whether pause and pace reach the engine (a running run that obeys control.json)."""
        return self.followed and not self._done.is_set() and obeys_control(self.run_dir)

    def control(self, state: ControlState) -> None:
        """Ask the engine to pause, resume or hold a pace (ignored when not controllable).

        Every request is written: the last monitor to write wins.
        """
        if not self.controllable:
            return
        self.control_state = state
        self._asked = True
        write_control(self.run_dir, state)

    def close(self) -> None:
        """Stop following; a run this monitor paused or paced runs free again."""
        if self._asked and self.control_state != ControlState() and self.controllable:
            self.control(ControlState())
        self._done.set()


class EventTap:
    """A plugin that hands each tick's events to the monitor: one ``deque.extend`` per tick."""

    def __init__(self) -> None:
        self.pending: deque[Event] = deque()

    @hookimpl
    def papertape_events(self, events: Sequence[Event]) -> None:
        """Queue the tick's events (encoded later, on the monitor's side)."""
        self.pending.extend(events)


class InProcessSession:
    """Runs a config's session in a worker thread and exposes its events and telemetry.

    Args:
        config: The run config (a journal is written as without the monitor).
        telemetry_every: Offer a telemetry sample every N engine steps (every step costs
            the engine ~40 % of its speed on a fast replay; every 10th costs nothing visible).
        capacity: Samples the channel holds before it drops (the engine never waits).
    """

    def __init__(self, config: RunConfig, telemetry_every: int = 10, capacity: int = 4096) -> None:
        self.config = config
        self.title = config.run.name
        self.tap = EventTap()
        self.channel = TelemetryChannel(capacity=capacity, every=telemetry_every)
        self.run_dir: Path | None = None
        self.steps = 0  # engine steps, once the run ended
        self.seconds = 0.0  # the engine's wall time, once the run ended
        self._seq = 0
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="papertape-engine", daemon=True)

    def start(self) -> None:
        """Start the engine in its worker thread."""
        self._thread.start()

    def _run(self) -> None:
        # The engine is built in its own thread: the journal's SQLite index may only be used
        # by the thread that opened it.
        from papertape.engine.session import build_engine

        writer = None
        try:
            engine, writer = build_engine(self.config, extra_plugins=[self.tap])
            engine.settings.telemetry = self.channel
            self.run_dir = writer.run_dir if writer is not None else None
            start = time.perf_counter()
            engine.run_sync()
            self.seconds = time.perf_counter() - start
            self.steps = engine.step_count
        except BaseException as exc:  # shown by the monitor; the thread must not die silently
            self.error = exc
        finally:
            if writer is not None:
                writer.close()
            self.channel.close()

    def poll(self) -> tuple[list[dict[str, Any]], list[TelemetrySample]]:
        """Events (as journal dicts, with their ``seq``) and samples since the last call."""
        events = []
        for event in _drain(self.tap.pending):
            events.append(orjson.loads(encode_event(event, self._seq)))
            self._seq += 1
        return events, self.channel.drain()

    @property
    def running(self) -> bool:
        """Whether the engine thread is still going (or left events unread)."""
        return self._thread.is_alive() or bool(self.tap.pending) or len(self.channel) > 0

    def join(self, timeout: float | None = None) -> None:
        """Wait for the engine thread."""
        self._thread.join(timeout)

    def close(self) -> None:
        """Nothing to stop: the engine thread is a daemon and ends with the run."""


def _drain(queue: deque[Any]) -> list[Any]:
    """Pop everything queued now (safe against a producer appending meanwhile)."""
    out = []
    while queue:
        out.append(queue.popleft())
    return out
