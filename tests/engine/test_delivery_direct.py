"""Delivery without pluggy's dispatch: the same consumers, the same order, the same answers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pluggy

from papertape.engine import hookspecs
from papertape.engine.delivery import EventDelivery
from papertape.engine.events import Event, FeedFresh
from papertape.engine.hookspecs import hookimpl


class Consumer:
    def __init__(self, name: str, log: list[tuple[str, int]]) -> None:
        self.name = name
        self.log = log

    @hookimpl
    def papertape_events(self, events: Sequence[Event]) -> None:
        self.log.append((self.name, len(events)))


class First(Consumer):
    @hookimpl(tryfirst=True)
    def papertape_events(self, events: Sequence[Event]) -> None:
        self.log.append((self.name, len(events)))


class Last(Consumer):
    @hookimpl(trylast=True)
    def papertape_events(self, events: Sequence[Event]) -> None:
        self.log.append((self.name, len(events)))


def _manager(*plugins: Any) -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for plugin in plugins:
        pm.register(plugin)
    return pm


def _tick(delivery: EventDelivery, n: int) -> None:
    delivery.pending.extend(FeedFresh(i, "X") for i in range(n))
    delivery.deliver()


def test_consumers_are_called_in_pluggys_order() -> None:
    # Arrange: the order pluggy itself calls them in
    expected: list[tuple[str, int]] = []
    plugins = [Last("z", expected), Consumer("a", expected), First("f", expected)]
    plugins.append(Consumer("b", expected))
    _manager(*plugins).hook.papertape_events(events=[FeedFresh(0, "X")])
    got: list[tuple[str, int]] = []
    delivery = EventDelivery(
        _manager(Last("z", got), Consumer("a", got), First("f", got), Consumer("b", got))
    )
    delivery.contain()

    # Act
    _tick(delivery, 1)

    # Assert: the same order, without pluggy's dispatch
    assert got == expected and [name for name, _ in got] == ["f", "b", "a", "z"]
    assert delivery._calls is not None and len(delivery._calls) == 4


def test_a_consumer_registered_or_removed_mid_run_counts_from_the_next_tick() -> None:
    # Arrange
    log: list[tuple[str, int]] = []
    first = Consumer("a", log)
    pm = _manager(first)
    delivery = EventDelivery(pm)
    _tick(delivery, 2)

    # Act
    pm.register(Consumer("b", log))
    _tick(delivery, 3)
    pm.unregister(first)
    _tick(delivery, 4)

    # Assert
    assert log == [("a", 2), ("b", 3), ("a", 3), ("b", 4)]


def test_traced_managers_and_wrappers_still_see_every_tick() -> None:
    # Arrange: hook-call monitoring and a wrapper both need pluggy's dispatch
    log: list[tuple[str, int]] = []
    seen: list[str] = []

    class Wrapper:
        @hookimpl(wrapper=True)
        def papertape_events(self, events: Sequence[Event]) -> Any:
            seen.append(f"wrap {len(events)}")
            return (yield)

    pm = _manager(Consumer("a", log))
    delivery = EventDelivery(pm)
    undo = pm.add_hookcall_monitoring(
        lambda name, impls, kwargs: seen.append(name), lambda *args: None
    )

    # Act
    _tick(delivery, 1)
    undo()
    pm.register(Wrapper())
    _tick(delivery, 2)

    # Assert
    assert seen == ["papertape_events", "wrap 2"]
    assert log == [("a", 1), ("a", 2)]


def test_consumers_wrapped_after_a_delivery_are_still_contained() -> None:
    # Arrange: a tick delivered before contain() (calls looked up, unwrapped), then contain()
    class SecondCallRaises:
        calls = 0

        @hookimpl
        def papertape_events(self, events: Sequence[Event]) -> None:
            self.calls += 1
            if self.calls == 2:
                raise TypeError("monitor bug")

    pm = _manager()
    pm.register(SecondCallRaises(), name="monitor")
    delivery = EventDelivery(pm)
    _tick(delivery, 1)
    delivery.contain()

    # Act: the same implementation list, now wrapped; its exception must not escape
    _tick(delivery, 1)

    # Assert
    assert delivery.errors == {"monitor": 1}
