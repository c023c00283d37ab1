"""Stepping a replay from outside: start/step/finish, external sizes, same fills as run()."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from papertape.engine.errors import ExecutionError
from papertape.engine.execution.orders import Signal
from papertape.engine.sizing import Sizer
from papertape.engine.snapshot import Snapshot
from papertape.engine.strategy import Strategy
from tests.conftest import DAY, T0, Script, flat_bars, make_engine

CLOSES = [100.0 + (i * 37) % 11 - 5.0 for i in range(40)]
SIZES = [1.0 + (i * 7) % 5 for i in range(40)]  # an "agent's" size for each bar


class Flip(Strategy):
    """Long on odd bar counts, short on even ones: a signal (and an order) every bar."""

    name = "flip"

    def on_bar(self, snap: Snapshot, portfolio: Any) -> Signal:
        return Signal.long() if snap.bars() % 2 else Signal.short()


class PlannedSize(Sizer):
    """The run() twin of the external driver: size ``SIZES[bar]`` for the bar decided on."""

    name = "planned"

    def size(self, signal: Any, snap: Snapshot, portfolio: Any, price: float) -> float:
        return SIZES[snap.bars() - 1]


def _fills(events: list[Any]) -> list[tuple[int, str, float, float, int]]:
    return [(e.time, e.symbol, e.qty, e.price, e.side) for e in events if e.kind == "fill"]


def test_stepping_with_external_sizes_gives_the_fills_of_run_with_a_sizer() -> None:
    run_engine, run_rec = make_engine(flat_bars(CLOSES), Flip(), sizer=PlannedSize())
    run_engine.run_sync()

    engine, rec = make_engine(flat_bars(CLOSES), Flip())  # its own sizer says 1 unit
    engine.start()
    results = []
    for i in range(len(CLOSES)):
        results.append(engine.step({"s": SIZES[i]}))
    engine.finish()

    # 40 bars: 40 flips decided, 39 filled (the last decision has no next bar); each flip
    # after the first trades the old size plus the new one.
    assert len(_fills(run_rec.events)) == 39
    assert _fills(rec.events) == _fills(run_rec.events)
    assert [r.done for r in results] == [False] * 39 + [True]
    assert list(engine.slots[0].portfolio.curve) == list(run_engine.slots[0].portfolio.curve)
    assert list(engine.step_times) == list(run_engine.step_times)
    assert [e.kind for e in rec.events] == [e.kind for e in run_rec.events]


def test_a_step_reports_its_fills_equity_and_events() -> None:
    # Long 1 unit decided on bar 0 (close 100), filled at bar 1's open (100): equity marked
    # at bar 1's close (110) is 10,000 - 100 + 110 = 10,010, at bar 2's (120) 10,020.
    engine, _ = make_engine(flat_bars([100.0, 110.0, 120.0]), Script({0: Signal.long()}))
    engine.start()
    first = engine.step()
    assert [e.kind for e in first.events] == ["signal", "order"] and first.fills == ()
    assert (first.time, first.clock, first.done) == (T0, T0 + DAY, False)
    second = engine.step()
    (fill,) = second.fills
    assert (fill.price, fill.qty) == (100.0, 1.0)
    assert second.equity == {"s": 10_010.0}
    third = engine.step()
    assert third.done and third.equity == {"s": 10_020.0}
    with pytest.raises(ExecutionError, match="over"):
        engine.step()
    engine.finish()


def test_an_external_size_resizes_a_position_already_on_the_right_side() -> None:
    # Always long; the driver asks for 2 units, then 5, then 5 again: orders +2, then +3,
    # and nothing the third time (already 5 long).
    engine, rec = make_engine(flat_bars([10.0] * 5), Script(dict.fromkeys(range(5), Signal.long())))
    engine.start()
    for size in (2.0, 5.0, 5.0, 5.0):
        engine.step({"s": size})
    engine.finish()
    assert [o.qty for o in rec.kinds("order")] == [2.0, 3.0]
    assert engine.slots[0].portfolio.qty("X") == 5.0


def test_step_before_start_is_refused() -> None:
    engine, _ = make_engine(flat_bars([1.0, 2.0]), Flip())
    with pytest.raises(ExecutionError, match="start"):
        engine.step()


def test_slow_decisions_are_awaited_within_their_step() -> None:
    # An awaitable decision is awaited inside step() (a private event loop): the order it
    # makes on bar 0 is filled on bar 1's step, as in run().
    class SlowFlip(Strategy):
        name = "slow_flip"

        def on_bar(self, snap: Snapshot, portfolio: Any) -> Any:
            async def think() -> Signal:
                await asyncio.sleep(0)
                return Signal.long() if snap.bars() % 2 else Signal.short()

            return think()

    run_engine, run_rec = make_engine(flat_bars(CLOSES[:6]), SlowFlip())
    run_engine.run_sync()
    engine, rec = make_engine(flat_bars(CLOSES[:6]), SlowFlip())
    engine.start()
    while not engine.step().done:
        pass
    engine.finish()
    assert len(_fills(rec.events)) == 5
    assert _fills(rec.events) == _fills(run_rec.events)
