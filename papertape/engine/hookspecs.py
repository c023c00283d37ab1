"""All papertape hook specifications, declared once.

Plugins implement these with ``@hookimpl`` (``from engine.hookspecs import hookimpl``). Hooks
are grouped by phase. The per-bar hot path does not dispatch through pluggy for strategies (the
engine calls their ``on_bar`` directly); pluggy carries registration, annotation, lifecycle and
the event stream.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from papertape.engine.events import Event
    from papertape.engine.risk.base import Shield
    from papertape.engine.sizing import Sizer
    from papertape.engine.snapshot import Snapshot
    from papertape.engine.strategy import Strategy

__all__ = ["PROJECT", "hookimpl", "hookspec"]

PROJECT = "papertape"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# --------------------------------------------------------------------------------------------
# Registration: called once when the catalog is built.
# --------------------------------------------------------------------------------------------


@hookspec
def papertape_strategies() -> Sequence[type[Strategy]]:  # type: ignore[empty-body]
    """Return strategy classes this plugin provides.

    Returns:
        Strategy subclasses; each must have a unique ``name``.
    """


@hookspec
def papertape_sizers() -> Sequence[type[Sizer]]:  # type: ignore[empty-body]
    """Return sizer classes this plugin provides.

    Returns:
        Sizer subclasses; each must have a unique ``name``.
    """


@hookspec
def papertape_shields() -> Sequence[type[Shield]]:  # type: ignore[empty-body]
    """Return risk shield classes this plugin provides.

    Returns:
        Shield subclasses; each must have a unique ``name``.
    """


# --------------------------------------------------------------------------------------------
# Run lifecycle.
# --------------------------------------------------------------------------------------------


@hookspec(historic=True)
def papertape_run_started(run: Mapping[str, Any]) -> None:
    """A run is about to process its first event (historic: late plugins still see it).

    Args:
        run: Run facts: ``run_id``, ``config_hash``, ``data_hash``, ``symbols``, ``strategies``.
    """


@hookspec
def papertape_run_finished(run: Mapping[str, Any], results: Mapping[str, Any]) -> None:
    """A run processed its last event.

    Args:
        run: The same facts as at start.
        results: Per-strategy summaries (final equity, metrics).
    """


# --------------------------------------------------------------------------------------------
# Per tick.
# --------------------------------------------------------------------------------------------


@hookspec
def papertape_annotate(snapshot: Snapshot) -> Mapping[str, Any] | None:
    """Add derived fields (regime labels, features) to a snapshot before strategies see it.

    Only called when at least one plugin implements it. Must use only data in ``snapshot``.

    Args:
        snapshot: The snapshot of this tick.

    Returns:
        Fields to merge into ``snapshot.annotations``, or None.
    """


@hookspec(firstresult=True)
def papertape_decision(strategy_id: str, snapshot: Snapshot) -> object | None:
    """Supply a strategy's decision for a snapshot instead of calling the strategy.

    ``firstresult``: the first plugin that answers decides. This is how a journal replays
    recorded decisions without any model, how what-if analysis gives trader A the decisions of
    trader B, and how an external policy drives a slot. Only called when a plugin implements
    it, so plain runs pay nothing.

    Args:
        strategy_id: The slot (configured strategy id) that is about to decide.
        snapshot: The snapshot it would decide on.

    Returns:
        None to let the strategy decide; otherwise its decision: a ``Signal``, a sequence of
        signals (an empty sequence means "decided nothing"), exactly what ``on_bar`` returns.
    """


# --------------------------------------------------------------------------------------------
# Event stream: journal, metrics, monitor.
# --------------------------------------------------------------------------------------------


@hookspec
def papertape_events(events: Sequence[Event]) -> None:
    """Receive one tick's events, in order, in one call (signals, orders, fills, vetoes, ...).

    The engine calls this once after every tick that emitted events, before it processes the
    next tick; quiet ticks cost nothing. A journal writes the batch here and makes it durable
    (one ``write``, plus one ``fdatasync`` with ``durability = "fsync"``), so every event the
    engine acted on is recorded before it acts again; with a replay's ``batch`` durability it
    holds whole ticks back and writes them together (docs/storage.md).

    An exception raised here is the consumer's own: it is logged with the plugin's name and
    counted (``Engine.consumer_errors``), the other consumers still get the batch, and no
    strategy is blamed. Only a ``JournalError`` stops the run. Hook wrappers
    (``@hookimpl(wrapper=True)``) may wrap the delivery, e.g. to time it.

    Args:
        events: The tick's events in emission order: a new list per call, which a consumer may
            keep; the events themselves are frozen.
    """
