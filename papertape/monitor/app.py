"""The monitor app: reads a source, keeps a :class:`Timeline`, and drives the scrubber.

The view is either at the live edge (``cursor`` None: the newest state, redrawn as events
arrive) or at a cursor on the run's time stops (paused, stepped with ``[``/``]``, or played
forward at ``speed`` stops per frame). When the source runs a replay it can control (the
engine in a child process, :class:`~papertape.monitor.child.ChildSession`), the engine is
paused whenever the view is, and ``+``/``-`` at the live edge set the engine's pace.
Reading never waits: a timer drains the source a few times a second and redraws only when
something changed, so a fast engine only ever costs the monitor frames, never the engine
time.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App
from textual.binding import Binding

from papertape.engine.telemetry_file import ControlState
from papertape.monitor.screens import DecisionScreen, HelpScreen, MainScreen
from papertape.monitor.source import EventSource
from papertape.monitor.state import MonitorState
from papertape.monitor.timeline import Timeline
from papertape.monitor.widgets import JournalLog, ScrubBar

if TYPE_CHECKING:
    from papertape.monitor.metrics import MetricsExporter

__all__ = ["KINDS", "MAX_PACE", "PACE_START", "READ_ONLY", "MonitorApp"]

PACE_START = 1024.0  # bars/s the first `-` at the live edge slows an unpaced engine to
MAX_PACE = 65536.0  # above it, `+` lets the engine run as fast as it can again
READ_ONLY = "read-only"  # the status line's word for a run the monitor cannot pause

KINDS: tuple[str | None, ...] = (
    None,
    "fill",
    "signal",
    "order",
    "trade",
    "llm_",
    "shield",
    "veto",
    "feed",
)


class MonitorApp(App[None]):
    """A papertape run, live or recorded, in the terminal.

    Args:
        source: Where events come from.
        refresh_s: Seconds between looks at the source (frames).
        max_duty: Share of a core the UI may use while the run goes on (None: no limit).
        metrics: A Prometheus exporter to feed with everything read (``--metrics-port``).
    """

    CSS_PATH = "monitor.tcss"
    TITLE = "papertape monitor"
    BINDINGS = [
        Binding("space", "toggle_pause", "pause/resume"),
        Binding("left_square_bracket", "scrub(-1)", "back"),
        Binding("right_square_bracket", "scrub(1)", "forward"),
        Binding("home", "scrub_to_start", "start", show=False, priority=True),
        Binding("end", "scrub_to_end", "live/end", show=False, priority=True),
        Binding("plus,equals_sign", "speed(2)", "faster", show=False),
        Binding("minus", "speed(0.5)", "slower", show=False),
        Binding("t", "focus_trader", "trader"),
        Binding("k", "filter_kind", "kind filter"),
        Binding("d,enter", "open_decision", "decision", priority=True),
        Binding("question_mark", "help", "help"),
        Binding("q", "quit", "quit"),
        # Ctrl-C quits too (a run in a child process is then stopped cleanly, resumable).
        Binding("ctrl+c", "quit", "quit", show=False, priority=True),
    ]

    def __init__(
        self,
        source: EventSource,
        refresh_s: float = 0.25,
        max_duty: float | None = None,
        metrics: MetricsExporter | None = None,
    ) -> None:
        super().__init__()
        # Share of wall time this (UI) thread may use while the engine runs in the same
        # process: above it, frames are dropped (events are still folded) so the engine keeps
        # the interpreter. None: no limit (the engine runs in another process, or is done).
        self.max_duty = max_duty
        self.frames_dropped = 0
        self._cpu_mark = time.thread_time()
        self._wall_mark = time.monotonic()
        self.source = source
        self.metrics = metrics
        self.timeline = Timeline()
        self.refresh_s = refresh_s
        self.cursor: int | None = None  # index into timeline.times; None = live edge
        self.playing = False  # moving the cursor forward by itself
        self.speed = 1
        self.pace: float | None = None  # engine steps/s asked of a controllable source
        self.focus: str | None = None
        self.kind: str | None = None
        self.error: str | None = None
        self._dirty = True
        self._generation = getattr(source, "generation", 0)
        self._progress_version = 0
        self._stops: list[int] = []
        self._was_running = True  # the source's `running` at the last frame
        self._cache: tuple[int, int, MonitorState] | None = None  # (cursor, len, state)

    def on_mount(self) -> None:
        """Show the dashboard and start the frame timer."""
        self.sub_title = self.source.title
        self.push_screen(MainScreen())
        self.ingest()
        self.call_after_refresh(self.redraw)
        self.set_interval(self.refresh_s, self.tick)

    @property
    def controllable(self) -> bool:
        """Whether pause and pace reach the source's engine (it obeys ``control.json``)."""
        return bool(getattr(self.source, "controllable", False))

    # -- data ------------------------------------------------------------------------------

    def ingest(self) -> bool:
        """Drain the source into the timeline. True when something arrived."""
        try:
            events, samples = self.source.poll()
        except Exception as exc:  # a broken journal shows in the title, it does not crash
            self.error = str(exc)
            self.sub_title = f"{self.source.title} — error: {exc}"
            return False
        generation = getattr(self.source, "generation", 0)
        if generation != self._generation:  # another run (an arena's next window): start over
            self._generation = generation
            self.timeline = Timeline()
            self._stops = []
            self._cache = None
            self.cursor = None
            self.playing = False
            self._dirty = True
            # A window that started while the view was paused obeys the pause it inherited;
            # the view now follows it at its live edge, so the engine runs again.
            self._sync_control()
        version = getattr(self.source, "progress_version", 0)
        if version != self._progress_version:  # the arena's leaderboard moved on
            self._progress_version = version
            self._dirty = True
        failed = getattr(self.source, "error", None)
        if failed is not None and self.error is None:  # the engine thread stopped on an error
            self.error = str(failed)
            self.sub_title = f"{self.source.title} — run failed: {failed}"
        if self.metrics is not None:  # fed even when frames are dropped
            self.metrics.follow(events, samples, getattr(self.source, "step", None))
        for ev in events:
            self.timeline.add_event(ev)
        for sample in samples:
            self.timeline.add_sample(sample)
        if events or samples:
            self._stops = self.timeline.times
            self._dirty = True
        running = self.source.running
        if running != self._was_running:  # the run ended (LIVE → END, read-only): redraw
            self._was_running = running
            self._dirty = True
        return bool(events or samples)

    def state(self) -> MonitorState:
        """The state the view shows now (the live edge, or the cursor's moment)."""
        if self.cursor is None:
            return self.timeline.latest()
        n = len(self.timeline)
        if self._cache is not None and self._cache[:2] == (self.cursor, n):
            return self._cache[2]
        st = self.timeline.at(self._stops[self.cursor])
        self._cache = (self.cursor, n, st)
        return st

    def tick(self) -> None:
        """One frame: read, advance a replay, redraw when something changed."""
        self.ingest()
        if self.playing and self.cursor is not None:
            self.cursor = min(self.cursor + self.speed, len(self._stops) - 1)
            self._dirty = True
            if self.cursor == len(self._stops) - 1:
                if not self.source.running:
                    self.playing = False
                elif self.controllable:  # caught up with the engine: follow it again
                    self.playing = False
                    self._set_cursor(None)
        if self._dirty and not self._over_budget():
            self.redraw()

    def _over_budget(self) -> bool:
        """Whether a frame now would push the UI thread over ``max_duty`` (then drop it)."""
        if self.max_duty is None or not self.source.running:
            return False
        busy = time.thread_time() - self._cpu_mark
        elapsed = time.monotonic() - self._wall_mark
        if busy > self.max_duty * elapsed:
            self.frames_dropped += 1
            return True
        self._cpu_mark, self._wall_mark = time.thread_time(), time.monotonic()
        return False

    def redraw(self) -> None:
        """Redraw every panel from :meth:`state`."""
        self._dirty = False
        screen = self.screen
        if not isinstance(screen, MainScreen):
            self._dirty = True  # a modal is open: redraw when it closes
            return
        st = self.state()
        screen.show(st, self.focus, self.kind, self.timeline.start)
        self._show_arena(screen)
        if self.cursor is None:
            mode = "LIVE" if self.source.running else "END"
            index = len(self._stops) - 1
        else:
            mode = "PLAYING" if self.playing else "PAUSED"
            index = self.cursor
        screen.query_one(ScrubBar).show(
            mode=mode,
            time=st.time,
            index=max(index, 0),
            stops=len(self._stops),
            speed=self.speed,
            focus=self.focus,
            kind=self.kind,
            engine=self._engine_label(),
        )

    def _show_arena(self, screen: MainScreen) -> None:
        """Show the arena's leaderboard and window when the source is an arena."""
        leaderboard = getattr(self.source, "leaderboard", None)
        if leaderboard is None:
            return
        title = str(getattr(self.source, "window_title", self.source.title))
        self.sub_title = title
        screen.arena_board().show(leaderboard(), f"arena leaderboard · {title}")

    def _engine_label(self) -> str:
        """The engine's state on the status line (read-only: a finished or plain run)."""
        if not self.controllable or not self.source.running:
            return READ_ONLY
        if self.engine_paused:
            return "paused"
        return "max" if self.pace is None else f"{self.pace:,.0f} bars/s"

    @property
    def engine_paused(self) -> bool:
        """Whether the engine is asked to wait (the view is paused on a moment)."""
        return self.cursor is not None and not self.playing

    def _sync_control(self) -> None:
        """Tell a controllable source what the view wants of its engine."""
        if self.controllable:
            self.source.control(ControlState(self.engine_paused, self.pace))  # type: ignore[attr-defined]

    # -- actions ---------------------------------------------------------------------------

    def _set_cursor(self, index: int | None) -> None:
        if not self._stops:  # nothing arrived yet: there is no moment to stop on
            index = None
            self.playing = False
        if index is not None:
            index = max(0, min(index, len(self._stops) - 1))
        self.cursor = index
        self._dirty = True
        self._sync_control()
        self.redraw()

    def action_toggle_pause(self) -> None:
        """Pause at the current moment, or resume (play on from the cursor, or follow)."""
        if self.cursor is None:
            self.playing = False
            self._set_cursor(len(self._stops) - 1)
        elif self.playing:
            self.playing = False
            self._set_cursor(self.cursor)
        elif self.cursor >= len(self._stops) - 1:
            self._set_cursor(None)
        else:
            self.playing = True
            self._set_cursor(self.cursor)

    def action_scrub(self, direction: int) -> None:
        """Move the cursor ``speed`` time stops back (-1) or forward (1); pauses."""
        self.playing = False
        here = len(self._stops) - 1 if self.cursor is None else self.cursor
        self._set_cursor(here + direction * self.speed)

    def action_scrub_to_start(self) -> None:
        """Jump to the first moment (paused)."""
        self.playing = False
        self._set_cursor(0)

    def action_scrub_to_end(self) -> None:
        """Back to the live edge (or the last moment of a finished run)."""
        self.playing = False
        self._set_cursor(None)

    def action_speed(self, factor: float) -> None:
        """Change the replay speed (stops per frame and per scrub step), 1 to 1024.

        At the live edge of an engine the monitor controls, change the engine's pace
        instead: from as fast as it can, ``-`` holds it at ``PACE_START`` bars/s, then each
        key halves or doubles it (1 to ``MAX_PACE``; above, as fast as it can again).
        """
        if self.controllable and self.cursor is None:
            if self.pace is None:
                self.pace = PACE_START if factor < 1 else None
            else:
                pace = max(1.0, self.pace * factor)
                self.pace = None if pace > MAX_PACE else pace
            self._sync_control()
        else:
            self.speed = int(max(1, min(1024, self.speed * factor)))
        self._dirty = True
        self.redraw()

    def action_focus_trader(self) -> None:
        """Cycle the focused trader: all, then each slot in config order."""
        names: list[str | None] = [None, *self.timeline.latest().traders]
        self.focus = names[(names.index(self.focus) + 1) % len(names)]
        self._dirty = True
        self.redraw()

    def action_filter_kind(self) -> None:
        """Cycle the journal's kind filter."""
        self.kind = KINDS[(KINDS.index(self.kind) + 1) % len(KINDS)]
        self._dirty = True
        self.redraw()

    def action_open_decision(self) -> None:
        """Open the decision of the journal row under the cursor (else the newest one).

        On an open decision, the key closes it; on the help screen it does nothing (the
        binding has priority over the tables, so it reaches the app on every screen).
        """
        if isinstance(self.screen, DecisionScreen):
            self.screen.dismiss()
            return
        if not isinstance(self.screen, MainScreen):
            return
        st = self.state()
        seq = self.screen.query_one(JournalLog).selected_seq()
        rec = st.decision_for(seq) if seq is not None else None
        if rec is None:
            rec = st.last_decision(self.focus)
        if rec is None:
            self.notify("no decision yet", severity="warning")
            return
        self.push_screen(DecisionScreen(rec), lambda _: self.redraw())

    def action_help(self) -> None:
        """Show the keys."""
        self.push_screen(HelpScreen(list(self.BINDINGS)))  # type: ignore[arg-type]


def css_path() -> Path:
    """The stylesheet's path (for tools that render the monitor's CSS)."""
    return Path(__file__).with_name("monitor.tcss")
