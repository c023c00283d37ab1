"""The engine offers a telemetry sample every N marked steps when a channel is set."""

from __future__ import annotations

from typing import Any

from papertape.engine.execution.orders import Signal
from tests.conftest import DAY, T0, Script, flat_bars, make_engine


class Outlet:
    """A channel that keeps what it is offered (room for everything)."""

    def __init__(self, every: int) -> None:
        self.every = every
        self.samples: list[Any] = []

    def offer(self, sample: Any) -> bool:
        self.samples.append(sample)
        return True


def test_every_second_step_is_sampled_with_equity_positions_and_marks() -> None:
    # Long 1 decided on bar 0 (100), filled at bar 1's open (100); steps 2 and 4 are sampled:
    # at bar 1's close (110) equity is 10,000 - 100 + 110 = 10,010, at bar 3's (130) 10,030.
    engine, rec = make_engine(flat_bars([100.0, 110.0, 120.0, 130.0]), Script({0: Signal.long()}))
    outlet = Outlet(every=2)
    engine.settings.telemetry = outlet
    engine.run_sync()
    assert [s.time for s in outlet.samples] == [T0 + DAY, T0 + 3 * DAY]
    assert [s.equity for s in outlet.samples] == [{"s": 10_010.0}, {"s": 10_030.0}]
    assert outlet.samples[0].positions == {"s": {"X": 1.0}}
    assert outlet.samples[1].marks == {"X": 130.0} and outlet.samples[1].lag_ns is None
    # wall-clock seconds since the epoch (time.time()), as TelemetrySample documents
    assert all(abs(s.wall_time - __import__("time").time()) < 3600 for s in outlet.samples)
    assert all(e.kind != "telemetry" for e in rec.events)  # the journal never sees them
