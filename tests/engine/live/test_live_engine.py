"""The live engine: stale snapshots are vetoed, fills come from the book, steps, slow decisions."""

from __future__ import annotations

import asyncio
from typing import Any

import pluggy
import pytest

from papertape.engine import hookspecs
from papertape.engine.errors import ExecutionError
from papertape.engine.execution.book_fills import BookFillSimulator
from papertape.engine.execution.orders import OrderType, Signal
from papertape.engine.feeds.kraken.book import OrderBook
from papertape.engine.feeds.kraken.protocol import BookLevel, Trade, level_token
from papertape.engine.live import LiveEngine
from papertape.engine.loop import STALE_FEED, EngineSettings, SlotSpec
from papertape.engine.snapshot import Snapshot
from papertape.engine.strategy import Strategy
from papertape.plugins.sizers import FixedQuantity
from tests.conftest import Recorder, Script

MIN = 60_000_000_000
T0 = 1_700_000_000 * 10**9 // MIN * MIN


def lv(price: float, qty: float) -> BookLevel:
    pt, qt = f"{price:.2f}", f"{qty:.8f}"
    return BookLevel(price, qty, pt, qt, level_token(pt, qt))


def valid_book(symbol: str = "A", mid: float = 100.0) -> OrderBook:
    b = OrderBook(symbol)
    b.apply_snapshot([lv(mid - 1, 5.0), lv(mid - 2, 5.0)], [lv(mid + 1, 5.0), lv(mid + 2, 5.0)])
    b.valid = True
    return b


def engine_with(
    strategy: Strategy,
    symbols: tuple[str, ...] = ("A",),
    qty: float = 1.0,
    stale: dict[str, str] | None = None,
) -> tuple[LiveEngine, Recorder]:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    rec = Recorder()
    pm.register(rec)
    reasons = stale if stale is not None else {}
    eng = LiveEngine(
        symbols,
        [SlotSpec("s", strategy, FixedQuantity(qty=qty), [], None, 10_000.0)],
        pm,
        EngineSettings(simulator=BookFillSimulator()),
        stale_reason=lambda s: reasons.get(s, ""),
    )
    eng.start()
    for sym in symbols:
        book = valid_book(sym)
        eng.on_book(sym, book, book.top(), T0)
    return eng, rec


def bar(eng: LiveEngine, k: int, close: float = 100.0, symbol: str = "A", stale: str = "") -> None:
    eng.on_bar(symbol, T0 + k * MIN, close, close, close, close, 1.0, stale)


class SeeStale(Strategy):
    name = "see_stale"

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[bool] = []

    def on_bar(self, snap: Snapshot, portfolio: Any) -> Signal:
        self.seen.append(snap.stale)
        return Signal.long() if len(self.seen) % 2 else Signal.flat()


def test_a_stale_snapshot_reaches_the_strategy_but_its_order_is_vetoed() -> None:
    strat = SeeStale()
    eng, rec = engine_with(strat)
    bar(eng, 0, stale="feed disconnected")
    assert strat.seen == [True]
    (veto,) = rec.kinds("veto")
    assert (veto.shield, veto.requested_qty, veto.allowed_qty) == (STALE_FEED, 1.0, 0.0)
    assert "feed disconnected" in veto.reason
    assert rec.kinds("order") == [] and rec.kinds("fill") == []
    assert [s.target for s in rec.kinds("signal")] == ["long"]  # the decision is journaled
    # fresh again: the next long signal trades at once against the book's ask
    bar(eng, 1)  # flat: nothing to do
    bar(eng, 2)
    (order,) = rec.kinds("order")
    (fill,) = rec.kinds("fill")
    assert (order.qty, fill.qty, fill.price, fill.liquidity) == (1.0, 1.0, 101.0, "taker")
    assert strat.seen == [True, False, False]


def test_a_stale_snapshot_leaves_working_orders_alone() -> None:
    plan = {0: Signal.long(order_type=OrderType.LIMIT, price=90.0), 1: Signal.flat()}
    stale = {"A": ""}
    eng, rec = engine_with(Script(plan), stale=stale)
    bar(eng, 0)
    (working,) = eng.sim.working("s", "A")
    bar(eng, 1, stale="order book not synchronised")
    assert working.active and rec.kinds("cancel") == []  # no cancel on a stale signal
    assert rec.kinds("veto")[0].shield == STALE_FEED


def test_limit_orders_fill_from_the_trade_stream() -> None:
    eng, rec = engine_with(Script({0: Signal.long(order_type=OrderType.LIMIT, price=99.5)}))
    bar(eng, 0)
    assert rec.kinds("fill") == []
    eng.on_trade("A", Trade("A", -1, 99.4, 0.4, 1, T0 + 70 * 10**9), T0 + 70 * 10**9)
    eng.on_trade("A", Trade("A", -1, 99.0, 5.0, 2, T0 + 80 * 10**9), T0 + 80 * 10**9)
    fills = rec.kinds("fill")
    assert [(f.qty, f.price, f.liquidity) for f in fills] == [
        (pytest.approx(0.4), 99.5, "maker"),
        (pytest.approx(0.6), 99.5, "maker"),
    ]
    assert eng.slots[0].portfolio.qty("A") == pytest.approx(1.0)


def test_market_order_waits_for_a_valid_book() -> None:
    eng, rec = engine_with(Script({0: Signal.long()}))
    stale_book = valid_book()
    stale_book.valid = False
    eng.on_book("A", stale_book, None, T0)
    bar(eng, 0)
    assert rec.kinds("order") and not rec.kinds("fill")
    good = valid_book(mid=110.0)
    eng.on_book("A", good, good.top(), T0 + MIN)
    (fill,) = rec.kinds("fill")
    assert fill.price == 111.0 and fill.time == T0 + MIN


def test_one_step_per_bar_time_across_symbols() -> None:
    eng, _ = engine_with(Script({}), symbols=("A", "B"))
    bar(eng, 0, symbol="A")
    assert eng.step_count == 0  # B's bar of that minute may still come
    bar(eng, 0, symbol="B")
    assert list(eng.step_times) == [T0]
    bar(eng, 1, symbol="A")
    bar(eng, 2, symbol="A")  # B had no candle at minute 1: the step closes anyway
    assert list(eng.step_times) == [T0, T0 + MIN]
    eng.finish()
    assert list(eng.step_times) == [T0, T0 + MIN, T0 + 2 * MIN]
    assert eng.bars == 4 and eng.rings[0].count == 3


class Slow(Strategy):
    name = "slow"

    def __init__(self, gate: asyncio.Event) -> None:
        super().__init__()
        self.gate = gate

    def on_bar(self, snap: Snapshot, portfolio: Any) -> Any:
        async def think() -> Signal:
            await self.gate.wait()
            return Signal.long("after thinking")

        return think() if snap.bars() == 1 else None


def test_a_slow_decision_does_not_hold_the_feed_and_is_checked_when_it_arrives() -> None:
    async def go(stale_on_arrival: str) -> Recorder:
        gate = asyncio.Event()
        reasons: dict[str, str] = {}
        eng, rec = engine_with(Slow(gate), stale=reasons)
        bar(eng, 0)
        bar(eng, 1)  # the feed goes on while the decision is pending
        assert rec.kinds("signal") == []
        reasons["A"] = stale_on_arrival
        gate.set()
        await asyncio.sleep(0.01)
        eng.finish()
        return rec

    fresh = asyncio.run(go(""))
    assert [f.price for f in fresh.kinds("fill")] == [101.0]
    stale = asyncio.run(go("feed disconnected"))
    assert stale.kinds("fill") == [] and stale.kinds("veto")[0].shield == STALE_FEED


def test_the_live_engine_needs_a_book_simulator_and_a_feed() -> None:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    from papertape.engine.execution.simulator import ExecutionSimulator

    with pytest.raises(ExecutionError, match="BookFillSimulator"):
        LiveEngine(("A",), [], pm, EngineSettings(simulator=ExecutionSimulator()))
    eng = LiveEngine(("A",), [], pm)
    with pytest.raises(ExecutionError, match="LiveSession"):
        asyncio.run(eng.run())


class Thinker(Strategy):
    """Answers long on each bar after ``delays[bar]`` seconds; notes when each answer came."""

    name = "thinker"

    def __init__(self, delays: list[float], arrived: list[tuple[str, int]], tag: str) -> None:
        super().__init__()
        self.delays, self.arrived, self.tag = delays, arrived, tag

    def on_bar(self, snap: Snapshot, portfolio: Any) -> Any:
        k = snap.bars() - 1

        async def think() -> Signal:
            await asyncio.sleep(self.delays[k])
            self.arrived.append((self.tag, k))
            return Signal.long(f"{self.tag} bar {k}") if k % 2 == 0 else Signal.flat()

        return think()


def test_each_trader_keeps_its_own_order_and_a_fast_one_never_waits_for_a_slow_one() -> None:
    # "slow" answers bar 0 after 80 ms and bar 1 after 5 ms; "fast" answers both in 5 ms.
    # Slow's bar-1 answer arrives first but is acted on only after its bar-0 answer (its own
    # order); fast's two decisions are acted on long before slow's first one.
    async def go() -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
        arrived: list[tuple[str, int]] = []
        pm = pluggy.PluginManager(hookspecs.PROJECT)
        pm.add_hookspecs(hookspecs)
        rec = Recorder()
        pm.register(rec)
        eng = LiveEngine(
            ("A",),
            [
                SlotSpec("slow", Thinker([0.08, 0.005], arrived, "slow"), FixedQuantity()),
                SlotSpec("fast", Thinker([0.005, 0.005], arrived, "fast"), FixedQuantity()),
            ],
            pm,
            EngineSettings(simulator=BookFillSimulator()),
        )
        eng.start()
        book = valid_book("A")
        eng.on_book("A", book, book.top(), T0)
        bar(eng, 0)
        bar(eng, 1)
        await asyncio.sleep(0.15)
        eng.finish()
        acted = [(s.strategy, 0 if s.target == "long" else 1) for s in rec.kinds("signal")]
        return arrived, acted

    arrived, acted = asyncio.run(go())
    assert arrived.index(("slow", 1)) < arrived.index(("slow", 0))
    assert acted == [("fast", 0), ("fast", 1), ("slow", 0), ("slow", 1)]


def test_live_shields_judge_the_order_decided_on_the_crash_bar() -> None:
    # Long 10 on bar 0, filled at once against the book (5 at 101, 5 at 102: 1,015). Bar 1
    # closes at 80: equity 10,000 - 1,015 + 10 x 80 = 9,785, a 2.15 % drawdown past
    # reduce_only_at = 2 %. The flip to short decided on that close (sell 20) is judged after
    # that mark: only the reducing 10 pass, and the position ends flat.
    from papertape.engine.risk import MaxDrawdownShield

    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    rec = Recorder()
    pm.register(rec)
    shield = MaxDrawdownShield(reduce_only_at=0.02, halt_at=0.5, release_at=0.01)
    eng = LiveEngine(
        ("A",),
        [
            SlotSpec(
                "s",
                Script({0: Signal.long(), 1: Signal.short()}),
                FixedQuantity(qty=10.0),
                [shield],
                None,
                10_000.0,
            )
        ],
        pm,
        EngineSettings(simulator=BookFillSimulator()),
    )
    eng.start()
    book = valid_book("A")
    eng.on_book("A", book, book.top(), T0)
    bar(eng, 0, 100.0)
    bar(eng, 1, 80.0)
    eng.finish()
    (trip,) = rec.kinds("shield_tripped")
    assert trip.state == "reduce_only"
    (veto,) = rec.kinds("veto")
    assert (veto.requested_qty, veto.allowed_qty) == (20.0, 10.0)
    assert eng.slots[0].portfolio.positions == {}


def test_a_late_decision_is_journaled_with_its_snapshot_time_and_its_arrival() -> None:
    # Bar 0 (stamped T0) gets a slow answer; by the time it arrives the market clock says
    # T0 + 3 minutes: the signal keeps T0, the order it causes carries T0 + 3 min.
    async def go() -> Recorder:
        gate = asyncio.Event()
        now = {"t": T0}
        pm = pluggy.PluginManager(hookspecs.PROJECT)
        pm.add_hookspecs(hookspecs)
        rec = Recorder()
        pm.register(rec)
        eng = LiveEngine(
            ("A",),
            [SlotSpec("s", Slow(gate), FixedQuantity(), [], None, 10_000.0)],
            pm,
            EngineSettings(simulator=BookFillSimulator()),
            clock=lambda: now["t"],
        )
        eng.start()
        book = valid_book("A")
        eng.on_book("A", book, book.top(), T0)
        bar(eng, 0)
        bar(eng, 1)
        now["t"] = T0 + 3 * MIN
        gate.set()
        await asyncio.sleep(0.01)
        eng.finish()
        return rec

    rec = asyncio.run(go())
    (signal,) = rec.kinds("signal")
    (order,) = rec.kinds("order")
    assert (signal.time, order.time) == (T0, T0 + 3 * MIN)
