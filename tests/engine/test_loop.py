"""The tick loop: containment of failing strategies, no look-ahead, async decisions, determinism."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from papertape.engine.execution.orders import Signal
from papertape.engine.hookspecs import hookimpl
from papertape.engine.snapshot import Snapshot
from papertape.engine.strategy import Strategy
from tests.conftest import Script, flat_bars, make_engine


class Boom(Strategy):
    name = "boom"

    def __init__(self, every: int = 1) -> None:
        super().__init__()
        self.every = every
        self.calls = 0

    def on_bar(self, snap: Snapshot, portfolio: Any) -> Signal | None:
        self.calls += 1
        if self.calls == 1:
            return Signal.long()
        if self.calls % self.every == 0:
            raise RuntimeError(f"bug #{self.calls}")
        return None


def test_failing_strategy_is_counted_disabled_and_flattened_while_others_run() -> None:
    closes = [float(100 + i) for i in range(20)]
    boom = Boom(every=2)
    engine, rec = make_engine(
        flat_bars(closes),
        [("boom", boom), ("ok", Script({0: Signal.long()}))],
        max_errors=3,
    )
    engine.run_sync()
    failures = rec.kinds("strategy_failed")
    assert [f.errors_so_far for f in failures] == [1, 2, 3]
    assert "RuntimeError: bug #2" in failures[0].error
    (disabled,) = rec.kinds("strategy_disabled")
    assert disabled.strategy == "boom"
    assert boom.calls == 6  # never called again after the third error
    slots = {s.id: s for s in engine.slots}
    assert not slots["boom"].enabled and slots["boom"].portfolio.positions == {}
    assert slots["ok"].enabled and slots["ok"].portfolio.qty("X") == 1.0
    assert len(slots["ok"].portfolio.curve) == 20  # the run went to the end


def test_garbage_from_a_strategy_is_a_failure_not_a_crash() -> None:
    class Garbage(Strategy):
        name = "garbage"

        def on_bar(self, snap: Snapshot, portfolio: Any) -> Any:
            return "buy!"

    engine, rec = make_engine(flat_bars([1.0, 2.0, 3.0]), Garbage(), max_errors=5)
    engine.run_sync()
    assert len(rec.kinds("strategy_failed")) == 3
    assert rec.kinds("order") == []


def test_decisions_see_only_the_past_and_fills_come_later() -> None:
    seen: list[tuple[int, float, int]] = []

    class Peek(Strategy):
        name = "peek"

        def on_bar(self, snap: Snapshot, portfolio: Any) -> Signal:
            times = snap.window("time", 10_000)
            seen.append((snap.time, float(snap.closes(10_000)[-1]), int(times.max())))
            return Signal.long() if len(seen) % 2 else Signal.flat()

    closes = [100.0 + (i * 7) % 13 for i in range(50)]
    engine, rec = make_engine(flat_bars(closes), Peek())
    engine.run_sync()
    for i, (t, last_close, newest) in enumerate(seen):
        assert newest == t and last_close == closes[i]
    signals = rec.kinds("signal")
    fills = rec.kinds("fill")
    assert fills and len(fills) == len(signals) - 1  # the last decision has no next bar
    for sig, fill in zip(signals, fills, strict=False):
        assert fill.time > sig.time


def test_bars_closing_together_are_decided_on_together_without_future_data() -> None:
    a = flat_bars([1.0, 2.0, 3.0], "A")
    b = flat_bars([10.0, 20.0, 30.0], "B")
    seen: list[tuple[str, float, float]] = []

    class Both(Strategy):
        name = "both"

        def on_bar(self, snap: Snapshot, portfolio: Any) -> None:
            seen.append((snap.symbol, snap.last(symbol="A"), snap.last(symbol="B")))

    engine, _ = make_engine([a, b], Both())
    engine.run_sync()
    # A's and B's bars close at the same moment: both are visible to both decisions of that
    # moment, and nothing of the next moment is.
    expected = [
        ("A", 1.0, 10.0),
        ("B", 1.0, 10.0),
        ("A", 2.0, 20.0),
        ("B", 2.0, 20.0),
        ("A", 3.0, 30.0),
        ("B", 3.0, 30.0),
    ]
    assert seen == expected
    assert len(engine.slots[0].portfolio.curve) == 3  # one mark per timestamp


def test_async_decisions_of_one_tick_run_concurrently() -> None:
    active = {"now": 0, "max": 0}

    class Slow(Strategy):
        name = "slow"

        async def _think(self) -> Signal:
            active["now"] += 1
            active["max"] = max(active["max"], active["now"])
            await asyncio.sleep(0.01)
            active["now"] -= 1
            return Signal.long("thought about it")

        def on_bar(self, snap: Snapshot, portfolio: Any) -> Any:
            return self._think()

    engine, rec = make_engine(flat_bars([1.0, 2.0, 3.0]), [(f"t{i}", Slow()) for i in range(4)])
    engine.run_sync()
    assert active["max"] == 4
    assert len(rec.kinds("fill")) == 4  # each trader's first decision filled on bar 1


def test_same_inputs_give_identical_event_streams() -> None:
    closes = [100.0 + ((i * 37) % 17) - 8 for i in range(200)]

    def run() -> list[dict[str, Any]]:
        plan = {i: (Signal.long() if (i // 7) % 2 == 0 else Signal.short()) for i in range(200)}
        engine, rec = make_engine(
            flat_bars(closes), Script(plan), slippage_bps=3.0, account="margin"
        )  # margin: the shorts and flips really happen
        engine.run_sync()
        return [e.record() for e in rec.events]

    assert run() == run()


@pytest.mark.parametrize("bad", [float("nan"), -1.0])
def test_a_bad_sizer_result_is_contained(bad: float) -> None:
    from papertape.engine.sizing import Sizer

    class Broken(Sizer):
        name = "broken"

        def size(self, *args: Any) -> float:
            return bad

    engine, rec = make_engine(
        flat_bars([1.0, 2.0, 3.0]), Script({0: Signal.long()}), sizer=Broken()
    )
    engine.run_sync()
    (failure,) = rec.kinds("strategy_failed")
    assert "sizer" in failure.error and rec.kinds("order") == []


def test_disabling_a_strategy_mid_tick_does_not_skip_the_next_one() -> None:
    calls: list[int] = []

    class Counter(Strategy):
        name = "counter"

        def on_bar(self, snap: Snapshot, portfolio: Any) -> None:
            calls.append(snap.bars())

    engine, rec = make_engine(
        flat_bars([1.0, 2.0, 3.0, 4.0]),
        [("boom", Boom(every=1)), ("count", Counter())],
        max_errors=1,
    )
    engine.run_sync()
    assert rec.kinds("strategy_disabled")
    assert calls == [1, 2, 3, 4]


def test_periodic_equity_marks_for_monitors() -> None:
    engine, rec = make_engine(flat_bars([10.0, 11.0, 12.0, 13.0, 14.0]), Script({0: Signal.long()}))
    engine.settings.mark_every = 2
    engine.run_sync()
    marks = rec.kinds("equity")
    curve = engine.slots[0].portfolio.curve
    assert [m.equity for m in marks] == [curve[1], curve[3]]
    assert [m.time for m in marks] == [int(engine.series[0].time[i]) for i in (1, 3)]


def test_inlined_marking_matches_the_full_marking_step() -> None:
    from papertape.engine.risk import MaxDrawdownShield

    closes = [100.0 + ((i * 13) % 11) - 5 for i in range(120)]
    plan = {i: (Signal.long() if (i // 9) % 2 == 0 else Signal.short()) for i in range(120)}
    plain, _ = make_engine(flat_bars(closes), Script(plan), account="margin")  # shorts held
    never_trips = MaxDrawdownShield(reduce_only_at=0.98, halt_at=0.99, release_at=0.5)
    full, _ = make_engine(
        flat_bars(closes), Script(dict(plan)), shields=[never_trips], account="margin"
    )
    plain.run_sync()
    full.run_sync()
    a, b = plain.slots[0], full.slots[0]
    assert list(a.portfolio.curve) == list(b.portfolio.curve)
    assert a.exposed_steps == b.exposed_steps > 0
    assert list(plain.step_times) == list(full.step_times)


class _Boom(Strategy):
    name = "boom"

    def on_bar(self, snap: Snapshot, portfolio: Any) -> Any:
        raise AssertionError("a substituted strategy must not be called")


class _Substitute:
    """Supplies slot ``s``'s decisions from a table keyed by bar time; answers nothing else."""

    def __init__(self, table: dict[int, Any]) -> None:
        self.table = table
        self.asked: list[tuple[str, int]] = []

    @hookimpl
    def papertape_decision(self, strategy_id: str, snapshot: Snapshot) -> Any:
        if strategy_id != "s":
            return None
        self.asked.append((strategy_id, snapshot.time))
        return self.table.get(snapshot.time, [])


def test_a_substituted_decision_replaces_the_strategy_call() -> None:
    series = flat_bars([10, 11, 12, 13, 14])
    t = [int(x) for x in series.time]
    sub = _Substitute({t[0]: Signal.long("recorded"), t[2]: [Signal.flat("recorded")]})
    strategies = [("s", _Boom()), ("other", Script({1: Signal.long()}))]
    engine, rec = make_engine(series, strategies, plugins=[sub])
    engine.run_sync()
    assert [a[1] for a in sub.asked] == t  # asked once per bar, strategy never called
    fills = [(f.strategy, f.time, f.side) for f in rec.kinds("fill")]
    # decided on bar 0's close → filled at bar 1's open; flat on bar 2 → sold at bar 3's open
    assert fills == [("s", t[1], 1), ("other", t[2], 1), ("s", t[3], -1)]
    assert [e.bar_symbol for e in rec.kinds("signal")] == ["X", "X", "X"]
    assert not rec.kinds("strategy_failed")


def test_slow_decisions_of_one_moment_across_symbols_share_one_round() -> None:
    # Two symbols closing together, two slow traders on both: the four awaitables of each
    # moment are in flight together (main awaited one round per symbol's bar: two at a time).
    active = {"now": 0, "max": 0}

    class Slow(Strategy):
        name = "slow"

        async def _think(self) -> None:
            active["now"] += 1
            active["max"] = max(active["max"], active["now"])
            await asyncio.sleep(0.005)
            active["now"] -= 1

        def on_bar(self, snap: Snapshot, portfolio: Any) -> Any:
            return self._think()

    a, b = flat_bars([1.0, 2.0, 3.0], "A"), flat_bars([5.0, 6.0, 7.0], "B")
    engine, _ = make_engine([a, b], [("t1", Slow()), ("t2", Slow())])
    engine.run_sync()
    assert active["max"] == 4


def test_event_counts_match_the_delivered_stream() -> None:
    # Arrange: flips every 3 bars on a margin account: signals, orders, fills, trades, cancels
    closes = [100.0 + ((i * 37) % 17) - 8 for i in range(120)]
    plan = {i: (Signal.long() if (i // 3) % 2 == 0 else Signal.short()) for i in range(120)}
    engine, rec = make_engine(flat_bars(closes), Script(plan), account="margin")

    # Act
    engine.run_sync()

    # Assert
    delivered: dict[str, int] = {}
    for e in rec.events:
        delivered[e.kind] = delivered.get(e.kind, 0) + 1
    assert dict(engine.event_counts) == delivered
    assert delivered["fill"] > 10 and delivered["run_finished"] == 1


def test_journaled_enum_fields_are_plain_strings() -> None:
    # Arrange: orjson reads an enum member's value through a Python property (~0.3 us per
    # field), so the hot events carry the plain string their fields are declared as
    closes = [100.0 + (i % 5) for i in range(40)]
    plan = {i: (Signal.long() if (i // 4) % 2 == 0 else Signal.short()) for i in range(40)}
    engine, rec = make_engine(flat_bars(closes), Script(plan), account="margin")

    # Act
    engine.run_sync()

    # Assert
    fields = {
        "signal": ("target", "order_type"),
        "order": ("order_type", "role"),
        "fill": ("role",),
    }
    seen = set()
    for e in rec.events:
        for name in fields.get(e.kind, ()):
            assert type(getattr(e, name)) is str, (e.kind, name)
            seen.add(e.kind)
    assert seen == set(fields)
