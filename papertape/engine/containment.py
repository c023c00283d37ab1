"""Containing user code and stopping cleanly: what the tick loop calls around strategies.

Three things live here so the loop only needs a few lines for them:

* :data:`CONTAINED`, the exceptions of user code that are that strategy's failure, not the
  run's end: every :class:`Exception`, and ``SystemExit`` (a ``sys.exit()`` in a strategy)
  and ``GeneratorExit``. ``KeyboardInterrupt`` still stops the run.
* :func:`as_signals`, which turns what ``on_bar`` returned into signals or says precisely what
  it was instead (a ``str`` is not reported by its first character).
* :class:`CallWatch`, a per-call time budget for ``on_bar``, and :class:`StopRequest`, the
  first Ctrl-C as a request to stop at the end of the current step.

How the time budget costs (almost) nothing per bar: the loop stores the slot it is calling
in ``active[0]`` before each ``on_bar`` call and clears it after, and the bar's snapshot in
``active[1]`` (two list stores per call, one per bar). A watchdog thread looks at those
markers a few times per budget; when the *same* call (same slot, same snapshot) has been in
progress for longer than the budget it sends ``SIGALRM`` to the main thread, whose handler
raises :class:`~engine.errors.StrategyTimeout` inside the strategy, but only if that call is
still running and the main thread is not executing the loop's own code at that instant. The
loop then counts it like any error: after ``max_strategy_errors`` the strategy is disabled.
Signals can only be handled in the main thread: an engine run elsewhere has no budget.

How Ctrl-C stops a replay: ``asyncio.run`` cancels its task on SIGINT, but a synchronous
replay never yields, so the first Ctrl-C used to wait for the end of the run. While an engine
runs in the main thread, :class:`StopRequest` replaces that handler: the first Ctrl-C sets a
flag the loop reads once per bar (one list index) and the loop stops at the end of the
current step, its events committed, without ``run_finished``: the journal is a consistent
prefix that ``papertape run --resume`` continues. Slow decisions being awaited (an LLM call)
are cancelled, not waited for. A second Ctrl-C raises
``KeyboardInterrupt`` at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import threading
import time
from collections.abc import Awaitable, Iterator, Sequence
from types import CodeType, FrameType
from typing import Any

from papertape.engine.errors import StrategyError, StrategyTimeout
from papertape.engine.execution.orders import Signal

__all__ = [
    "CONTAINED",
    "CallWatch",
    "StopRequest",
    "StrategyOverrun",
    "as_signals",
    "in_main_thread",
]

log = logging.getLogger("papertape.engine")


class StrategyOverrun(BaseException):
    """A strategy caught its :class:`StrategyTimeout` and went on.

    The second alarm for the same call is raised as this, which ``except Exception`` does
    not catch (the loop does).
    """


CONTAINED: tuple[type[BaseException], ...] = (
    Exception,
    SystemExit,
    GeneratorExit,
    StrategyOverrun,
)


def in_main_thread() -> bool:
    """True in the interpreter's main thread (the only one signal handlers run in)."""
    return threading.current_thread() is threading.main_thread()


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def as_signals(decision: Any) -> Sequence[Signal]:
    """What ``on_bar`` returned, as a sequence of signals.

    Raises:
        StrategyError: It is neither a Signal nor a list/tuple of them; the message names
            the type and shows the value.
    """
    if decision.__class__ is Signal:
        return (decision,)
    if isinstance(decision, Signal):
        return (decision,)
    if isinstance(decision, list | tuple):
        for i, item in enumerate(decision):
            if not isinstance(item, Signal):
                raise StrategyError(
                    f"on_bar returned a {type(decision).__name__} whose item {i} is a "
                    f"{type(item).__name__} ({_shown(item)}), not a Signal"
                )
        return decision
    raise StrategyError(
        f"on_bar returned a {type(decision).__name__} ({_shown(decision)}), not a Signal, a "
        "list of Signals or None"
    )


class StopRequest:
    """The first Ctrl-C asks the replay to stop at the end of the step (see module docs)."""

    def __init__(self) -> None:
        self.flag: list[bool] = [False]
        self._previous: Any = None
        self._waiting: asyncio.Future[list[Any]] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def gather(self, awaitables: Sequence[Awaitable[Any]]) -> list[Any]:
        """``asyncio.gather(..., return_exceptions=True)`` that a Ctrl-C cancels.

        Slow decisions (an LLM call) may take seconds; a stop request must not wait for them.

        Raises:
            asyncio.CancelledError: Ctrl-C was pressed while waiting.
        """
        gathered = asyncio.gather(*awaitables, return_exceptions=True)
        self._loop = asyncio.get_running_loop()
        self._waiting = gathered
        try:
            return await gathered
        finally:
            self._waiting = None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.flag[0]:
            raise KeyboardInterrupt  # the second Ctrl-C: now
        self.flag[0] = True
        waiting, loop = self._waiting, self._loop
        if waiting is not None and loop is not None and not waiting.done():
            loop.call_soon_threadsafe(waiting.cancel)  # wakes the loop out of its select
        print(
            "\npapertape: stopping at the end of this step (Ctrl-C again to abort at once)",
            file=sys.stderr,
            flush=True,
        )

    @contextlib.contextmanager
    def installed(self) -> Iterator[StopRequest]:
        """Handle SIGINT while the block runs (main thread only; elsewhere a no-op)."""
        if not in_main_thread():
            yield self
            return
        self._previous = signal.signal(signal.SIGINT, self._handle)
        try:
            yield self
        finally:
            signal.signal(signal.SIGINT, self._previous)


class CallWatch:
    """A time budget per ``on_bar`` call (see module docs).

    Args:
        budget_s: Seconds one call may take; 0 turns the budget off.
        loop_code: Code objects of the loop itself: an alarm landing there is ignored.
    """

    def __init__(self, budget_s: float, loop_code: Sequence[CodeType] = ()) -> None:
        self.budget_s = budget_s
        self.active: list[Any] = [None, None]  # [slot being called, snapshot of the bar]
        self._loop_code = frozenset(loop_code)
        self._victim: tuple[Any, Any] | None = None
        self._warned: tuple[Any, Any] | None = None  # the call already sent a StrategyTimeout
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._previous: Any = None
        self.timeouts = 0

    @property
    def enabled(self) -> bool:
        """Whether the budget is enforced in this run."""
        return self._thread is not None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        victim = self._victim
        active = self.active
        if victim is None or active[0] is not victim[0] or active[1] is not victim[1]:
            return  # that call has ended
        if frame is not None and frame.f_code in self._loop_code:
            return  # between the call and its marker: the loop itself is running
        self._victim = None
        why = f"time budget exceeded (on_bar ran over {self.budget_s:g} s; run.strategy_budget_s)"
        warned = self._warned
        if warned is not None and warned[0] is victim[0] and warned[1] is victim[1]:
            raise StrategyOverrun(f"{why}; the strategy caught the StrategyTimeout and went on")
        self._warned = victim
        self.timeouts += 1
        raise StrategyTimeout(why)

    def _watch(self) -> None:
        budget = self.budget_s
        interval = min(max(budget / 4.0, 0.005), 0.25)
        main = threading.main_thread().ident
        seen: tuple[Any, Any] | None = None
        since = 0.0
        active = self.active
        while not self._stop.wait(interval):
            slot, snap = active[0], active[1]
            if slot is None:
                seen = None
                continue
            now = time.monotonic()
            if seen is None or seen[0] is not slot or seen[1] is not snap:
                seen, since = (slot, snap), now
                continue
            if now - since >= budget and main is not None:
                self._victim = seen
                since = now  # a strategy that swallows the error is interrupted again
                signal.pthread_kill(main, signal.SIGALRM)

    @contextlib.contextmanager
    def running(self) -> Iterator[CallWatch]:
        """Enforce the budget while the block runs (main thread only; elsewhere a no-op)."""
        if self.budget_s <= 0 or not in_main_thread():
            yield self
            return
        self._previous = signal.signal(signal.SIGALRM, self._handle)
        self._stop.clear()
        self._thread = threading.Thread(target=self._watch, name="papertape-watch", daemon=True)
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join()
            self._thread = None
            self.active[0] = self.active[1] = None
            signal.signal(signal.SIGALRM, self._previous)
