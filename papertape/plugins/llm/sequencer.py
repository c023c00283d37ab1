"""Deterministic order for events of concurrent decisions.

Several LLM traders deciding on the same bar run concurrently, and whichever model answers
first would journal first: a live run and its cached replay would then write the same records
in different orders. A :class:`EmitSequencer` hands out turns in the order decisions were
*requested* (``on_bar`` is called in slot order, synchronously) and lets each decision emit
only after every earlier one has, so the journal order never depends on who was faster.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from papertape.engine.events import Event

__all__ = ["EmitSequencer", "Turn", "sequencer_for"]

Emit = Callable[["Event"], None]


class Turn:
    """One decision's place in the emission order."""

    __slots__ = ("_done", "_prev", "started")

    def __init__(self, prev: Turn | None) -> None:
        self._prev = prev
        self._done = asyncio.Event()
        self.started = False

    async def wait(self) -> None:
        """Wait until every earlier turn that is running has finished."""
        prev = self._prev
        # A turn whose decision never started (dropped by the engine) cannot block later ones.
        if prev is not None and prev.started and not prev._done.is_set():
            await prev._done.wait()
        self._prev = None  # let finished turns be collected

    def finish(self) -> None:
        """Release later turns (always called, also on errors and cancellation)."""
        self._prev = None
        self._done.set()


class EmitSequencer:
    """Hands out turns; one per engine, shared by every trader of that engine."""

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last: Turn | None = None

    def turn(self) -> Turn:
        """A new turn after every turn handed out so far."""
        t = Turn(self._last)
        self._last = t
        return t


_SHARED: weakref.WeakKeyDictionary[Any, EmitSequencer] = weakref.WeakKeyDictionary()


def sequencer_for(emit: Emit | None) -> EmitSequencer:
    """The sequencer shared by everyone emitting through ``emit`` (one per engine)."""
    owner = getattr(emit, "__self__", None)
    if owner is None:
        return EmitSequencer()
    try:
        seq = _SHARED.get(owner)
        if seq is None:
            seq = _SHARED[owner] = EmitSequencer()
    except TypeError:  # an owner that cannot be weakly referenced gets its own
        return EmitSequencer()
    return seq
