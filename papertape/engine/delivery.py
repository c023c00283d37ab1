"""Event delivery: one ``papertape_events`` call per tick, each consumer contained as its own.

The engine collects a tick's events in a list and hands the whole list to the
``papertape_events`` hook once, after the tick (:meth:`EventDelivery.deliver`). One pluggy
dispatch per tick instead of one per event is most of what an event used to cost.

pluggy stops a hook call at the first implementation that raises, so one broken monitor
would starve every consumer called after it (the journal included) of that tick, and the
exception would surface inside the engine, where it used to be blamed on whichever strategy
was deciding. :meth:`EventDelivery.contain` therefore wraps each plain implementation so that
its exception is logged with the consumer's name and counted in :attr:`EventDelivery.errors`,
and the other consumers still get the tick. Hook wrappers (``wrapper=True``) keep working:
they wrap the contained calls. Exception: a :class:`~papertape.engine.errors.JournalError`
still stops the run, because a run whose record cannot be written (or that diverges from the
log it resumes) must not go on silently.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

try:  # pluggy's own dispatcher: a manager still using it is not being traced or monitored
    from pluggy._callers import _multicall
except ImportError:  # pragma: no cover - another pluggy layout: always dispatch through it
    _multicall = None  # type: ignore[assignment]

from papertape.engine.errors import JournalError

if TYPE_CHECKING:
    import pluggy

    from papertape.engine.events import Event

__all__ = ["EventDelivery"]

log = logging.getLogger("papertape.events")
_MARK = "__papertape_contained__"


class EventDelivery:
    """The per-tick batch of events and its delivery to the ``papertape_events`` consumers.

    Attributes:
        pending: Events of the current tick, not yet delivered (the engine appends to it).
        errors: Exceptions contained per consumer (plugin name → count).
    """

    __slots__ = ("_calls", "_hook", "_impls", "_pm", "errors", "pending")

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self._pm = pm
        self._hook = pm.hook.papertape_events
        self.pending: list[Event] = []
        self.errors: dict[str, int] = {}
        # The implementations last seen and how to call them without pluggy (None: through it).
        self._impls: list[Any] = []
        self._calls: tuple[Callable[[list[Event]], object], ...] | None = None

    def contain(self) -> None:
        """Wrap every plain ``papertape_events`` implementation registered now (idempotent).

        The engine calls this when a run starts, so plugins registered before then are
        contained. A wrapper records its failures in this delivery's :attr:`errors`, also when
        the plugin manager is shared by several engines one after the other.
        """
        for impl in self._hook.get_hookimpls():
            if impl.wrapper or impl.hookwrapper:
                continue
            fn = impl.function
            state = getattr(fn, _MARK, None)
            if state is not None:
                state[0] = self  # re-point an earlier engine's wrapper here
                continue
            impl.function = _contained(fn, impl.plugin_name, self)  # type: ignore[misc]
        self._impls = []  # the functions changed: look the calls up again at the next tick

    def deliver(self) -> None:
        """Hand the tick's events to the consumers in one call and start a new batch.

        With only plain implementations (no wrappers) and no hook tracing, they are called
        in pluggy's order without going through pluggy's dispatch (about 1 µs per tick);
        the list of implementations is compared with the last one seen on every tick, so a
        plugin registered or removed mid-run is honoured from the next tick on.
        """
        pending = self.pending
        if pending:
            events = pending[:]  # the engine keeps appending to ``pending`` (one list for good)
            pending.clear()
            impls = getattr(self._hook, "_hookimpls", None)
            if impls is None or _multicall is None:
                self._hook(events=events)
                return
            if impls != self._impls:
                self._impls = list(impls)
                self._calls = _direct_calls(self._pm, impls)
            calls = self._calls
            if calls is None or getattr(self._pm, "_inner_hookexec", None) is not _multicall:
                self._hook(events=events)
            else:
                for call in calls:
                    call(events)

    def failed(self, consumer: str, exc: Exception, events: Sequence[Event]) -> None:
        """Record that ``consumer`` raised ``exc`` on a batch (log + count, never a strategy's)."""
        n = self.errors.get(consumer, 0) + 1
        self.errors[consumer] = n
        log.warning(
            "event consumer %s raised %s on a batch of %d events: %s (%d so far)",
            consumer,
            type(exc).__name__,
            len(events),
            exc,
            n,
            exc_info=n == 1,
        )


def _direct_calls(
    pm: pluggy.PluginManager, impls: Sequence[Any]
) -> tuple[Callable[[list[Event]], object], ...] | None:
    """The plain implementations in pluggy's call order, or None when pluggy must dispatch.

    pluggy calls the last registered implementation first (``tryfirst``/``trylast`` already
    sorted into the list); wrappers, and implementations that do not take ``events`` by that
    one name, go through pluggy.
    """
    calls: list[Callable[[list[Event]], object]] = []
    for impl in reversed(impls):
        if impl.wrapper or impl.hookwrapper or tuple(impl.argnames) != ("events",):
            return None
        calls.append(impl.function)
    return tuple(calls)


def _contained(
    fn: Callable[..., object], consumer: str, delivery: EventDelivery
) -> Callable[..., object]:
    state: list[EventDelivery] = [delivery]

    def consume(*args: Any) -> object:
        try:
            return fn(*args)
        except JournalError:
            raise
        except Exception as exc:
            state[0].failed(consumer, exc, args[0] if args else ())
            return None

    setattr(consume, _MARK, state)
    consume.__wrapped__ = fn  # type: ignore[attr-defined]
    return consume
