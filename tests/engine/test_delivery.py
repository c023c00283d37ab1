"""Event delivery: one hook call per tick, consumers contained as their own, wrappers kept."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

import pytest

from papertape.engine.errors import JournalError
from papertape.engine.events import Event
from papertape.engine.execution.orders import Signal
from papertape.engine.hookspecs import hookimpl
from papertape.engine.snapshot import Snapshot
from papertape.engine.strategy import Strategy
from tests.conftest import Script, flat_bars, make_engine


class Flipper(Strategy):
    name = "flipper"

    def on_bar(self, snap: Snapshot, portfolio: Any) -> Signal:
        return Signal.long() if snap.bars() % 2 else Signal.short()


class Broken:
    """A monitor with a bug: a TypeError on every batch that carries a signal."""

    def __init__(self) -> None:
        self.calls = 0

    @hookimpl
    def papertape_events(self, events: Sequence[Event]) -> None:
        self.calls += 1
        if any(e.kind == "signal" for e in events):
            raise TypeError("monitor bug")


def test_a_consumers_exception_is_its_own_and_never_disables_a_healthy_strategy() -> None:
    # 10 bars, a flip on every close: 10 signals, and 9 orders that fill on the next open.
    # On main the monitor's TypeError surfaced inside the strategy's decision and disabled it
    # after three "failures"; here the strategy trades all 10 bars and the monitor's 10 broken
    # batches are counted as the monitor's. The recorder, called in the same dispatch, misses
    # nothing.
    broken = Broken()
    engine, rec = make_engine(
        flat_bars([100.0 + i for i in range(10)]), Flipper(), plugins=[broken]
    )
    engine.run_sync()
    assert rec.kinds("strategy_failed") == [] and rec.kinds("strategy_disabled") == []
    assert len(rec.kinds("signal")) == 10 and len(rec.kinds("fill")) == 9
    assert engine.slots[0].enabled
    name = engine.pm.get_name(broken)
    assert name is not None and engine.consumer_errors == {name: 10}


def test_events_reach_consumers_in_one_call_per_tick() -> None:
    # Ticks with events: the start (run_started), bar 0 (signal + order), bar 1 (fill), and
    # the end (run_finished): 4 calls, each carrying exactly that tick's events in order.
    batches: list[list[str]] = []

    class Batches:
        @hookimpl
        def papertape_events(self, events: Sequence[Event]) -> None:
            batches.append([e.kind for e in events])

    engine, _ = make_engine(
        flat_bars([1.0, 2.0, 3.0]), Script({0: Signal.long()}), plugins=[Batches()]
    )
    engine.run_sync()
    assert batches == [["run_started"], ["signal", "order"], ["fill"], ["run_finished"]]


def test_a_hook_wrapper_still_wraps_the_delivery() -> None:
    seen: list[int] = []

    class Timing:
        @hookimpl(wrapper=True)
        def papertape_events(self, events: Sequence[Event]) -> Generator[None, None, None]:
            seen.append(len(events))
            yield

    engine, rec = make_engine(
        flat_bars([1.0, 2.0, 3.0]), Script({0: Signal.long()}), plugins=[Broken(), Timing()]
    )
    engine.run_sync()
    assert seen == [1, 2, 1, 1] and len(rec.events) == 5


def test_a_journal_error_in_a_consumer_still_stops_the_run() -> None:
    class FullDisk:
        @hookimpl
        def papertape_events(self, events: Sequence[Event]) -> None:
            if any(e.kind == "fill" for e in events):
                raise JournalError("cannot write journal: disk full")

    engine, _ = make_engine(
        flat_bars([1.0, 2.0, 3.0]), Script({0: Signal.long()}), plugins=[FullDisk()]
    )
    with pytest.raises(JournalError, match="disk full"):
        engine.run_sync()
