"""Each shield on its own, then inside the engine where trips and releases become events."""

from __future__ import annotations

import pytest

from papertape.engine.errors import ConfigError
from papertape.engine.execution.orders import Fill, OrderRole, Side, Signal
from papertape.engine.metrics import ClosedTrade
from papertape.engine.risk import (
    CooldownShield,
    DailyLossShield,
    ExposureCapShield,
    LossStreakShield,
    MaxDrawdownShield,
    OrderIntent,
    ShieldState,
)
from papertape.plugins.sizers import FixedQuantity
from tests.conftest import DAY, Script, flat_bars, make_engine


def trade(pnl: float) -> ClosedTrade:
    return ClosedTrade("X", 1, 1.0, 0, 1.0, 1, 1.0 + pnl, pnl, 0.0, 1)


def intent(
    delta: float,
    position: float = 0.0,
    price: float = 10.0,
    equity: float = 1000.0,
    gross: float = 0.0,
) -> OrderIntent:
    return OrderIntent("X", delta, price, position, equity, gross)


def test_max_drawdown_reduce_only_release_then_halt() -> None:
    sh = MaxDrawdownShield(reduce_only_at=0.10, halt_at=0.20, release_at=0.05)
    assert sh.on_step(100.0, 0, 1) is None
    assert sh.on_step(120.0, 0, 2) is None  # new high-water mark
    tr = sh.on_step(107.9, 0, 3)  # 10.08 % below 120
    assert tr is not None and tr.state is ShieldState.REDUCE_ONLY
    assert sh.allow(intent(+5.0)) == (0.0, "reduce_only: only reducing orders pass")
    assert sh.allow(intent(-5.0, position=3.0))[0] == -3.0  # only the reducing part
    assert sh.on_step(110.0, 0, 4) is None  # 8.3 %: still reduce-only
    released = sh.on_step(115.0, 0, 5)  # 4.2 % < 5 %
    assert released is not None and released.state is ShieldState.NORMAL
    halted = sh.on_step(95.0, 0, 6)  # 20.8 %
    assert halted is not None and halted.state is ShieldState.HALTED
    assert sh.on_step(200.0, 0, 7) is None and sh.state is ShieldState.HALTED  # halt is final


def test_max_drawdown_flat_in_reduce_only_stays_tripped_without_rearm() -> None:
    sh = MaxDrawdownShield(reduce_only_at=0.10, halt_at=0.50, release_at=0.05)
    sh.on_step(100.0, 0, 1)
    assert sh.on_step(85.0, 0, 2) is not None  # 15 %: reduce-only, the trader goes flat
    assert all(sh.on_step(85.0, 0, s) is None for s in range(3, 500))  # flat: never recovers
    assert sh.state is ShieldState.REDUCE_ONLY


def test_max_drawdown_rearms_after_n_steps_from_a_fresh_high_water_mark() -> None:
    sh = MaxDrawdownShield(reduce_only_at=0.10, halt_at=0.50, release_at=0.05, rearm_after=5)
    sh.on_step(100.0, 0, 1)
    assert sh.on_step(85.0, 0, 2) is not None
    assert [sh.on_step(85.0, 0, s) for s in range(3, 7)] == [None] * 4  # steps 3-6: < 5 since
    rearmed = sh.on_step(85.0, 0, 7)
    assert rearmed is not None and rearmed.state is ShieldState.NORMAL
    assert "re-armed after 5 steps" in rearmed.reason and sh.high_water == 85.0
    assert sh.allow(intent(+5.0)) == (5.0, "")
    # the drawdown is measured from 85 now: 10 % below it trips again, counted afresh
    again = sh.on_step(76.4, 0, 8)
    assert again is not None and again.state is ShieldState.REDUCE_ONLY
    assert sh.on_step(76.4, 0, 12) is None and sh.on_step(76.4, 0, 13) is not None


def test_max_drawdown_rearm_needs_whole_steps() -> None:
    with pytest.raises(ConfigError, match="rearm_after"):
        MaxDrawdownShield(rearm_after=2.5)


def test_max_drawdown_rejects_unordered_thresholds() -> None:
    with pytest.raises(ConfigError, match="halt_at"):
        MaxDrawdownShield(reduce_only_at=0.3, halt_at=0.2)


def test_loss_streak_pauses_for_n_bars() -> None:
    sh = LossStreakShield(max_losses=2, pause_bars=3)
    assert sh.on_trade(trade(-1.0), 10) is None
    assert sh.on_trade(trade(+1.0), 11) is None  # a win resets the streak
    assert sh.on_trade(trade(-1.0), 12) is None
    tr = sh.on_trade(trade(-0.5), 13)
    assert tr is not None and tr.state is ShieldState.PAUSED
    assert sh.allow(intent(1.0))[0] == 0.0
    assert sh.on_step(0.0, 0, 15) is None
    assert sh.on_step(0.0, 0, 16) is not None and sh.state is ShieldState.NORMAL


def test_cooldown_only_after_a_stop_loss() -> None:
    sh = CooldownShield(bars=2)
    tp = Fill(1, "s", "X", Side.SELL, 1, 1.0, 0.0, 0.0, "maker", OrderRole.TAKE_PROFIT, 0)
    sl = Fill(2, "s", "X", Side.SELL, 1, 1.0, 0.0, 0.0, "taker", OrderRole.STOP_LOSS, 0)
    assert sh.on_fill(tp, 5) is None
    assert sh.on_fill(sl, 5) is not None and sh.state is ShieldState.PAUSED
    assert sh.on_step(0.0, 0, 6) is None
    assert sh.on_step(0.0, 0, 7) is not None and sh.state is ShieldState.NORMAL


def test_daily_loss_pauses_until_next_utc_day() -> None:
    sh = DailyLossShield(max_loss=0.05)
    hour = 3600 * 10**9
    assert sh.on_step(1000.0, 0, 1) is None
    assert sh.on_step(960.0, 1 * hour, 2) is None  # -4 %
    tr = sh.on_step(949.0, 2 * hour, 3)  # -5.1 %
    assert tr is not None and tr.state is ShieldState.PAUSED
    assert sh.on_step(990.0, 5 * hour, 4) is None  # recovering the same day does not release
    rel = sh.on_step(990.0, DAY + hour, 5)
    assert rel is not None and rel.state is ShieldState.NORMAL
    assert sh.day_open == 990.0


def test_exposure_cap_shrinks_to_the_room_left() -> None:
    sh = ExposureCapShield(max_gross=1.0)
    # equity 1000, already 600 exposed, price 10: room for 40 more units
    assert sh.allow(intent(100.0, position=60.0, gross=600.0))[0] == pytest.approx(40.0)
    assert sh.allow(intent(30.0, position=60.0, gross=600.0)) == (30.0, "")
    # a flip from +60 to -100: the 60 reducing units pass, the rest is capped at 100 units
    allowed, _ = sh.allow(intent(-160.0, position=60.0, gross=600.0))
    assert allowed == pytest.approx(-160.0)
    allowed, _ = sh.allow(intent(-200.0, position=60.0, gross=600.0))
    assert allowed == pytest.approx(-160.0)


# ---------------------------------------------------------------- inside the engine


def falling(n: int = 30, start: float = 100.0, step: float = 0.03) -> list[float]:
    return [start * (1 - step) ** i for i in range(n)]


def test_drawdown_halt_liquidates_and_journals() -> None:
    closes = [100.0, 100.0, *falling(20)]
    shield = MaxDrawdownShield(reduce_only_at=0.05, halt_at=0.10, release_at=0.01)
    engine, rec = make_engine(
        flat_bars(closes),
        Script({0: Signal.long(), 10: Signal.flat(), 11: Signal.long()}),
        sizer=FixedQuantity(qty=100.0),
        shields=[shield],
        cash=10_000.0,
    )
    engine.run_sync()
    trips = rec.kinds("shield_tripped")
    assert [t.state for t in trips] == ["reduce_only", "halted"]
    liquidation = [f for f in rec.kinds("fill") if f.role == "liquidation"]
    assert len(liquidation) == 1 and engine.slots[0].portfolio.positions == {}
    vetoes = rec.kinds("veto")
    assert vetoes and vetoes[-1].shield == "max_drawdown" and vetoes[-1].allowed_qty == 0.0
    # after the halt no order adds exposure again
    halted_at = trips[-1].time
    assert all(o.role == "liquidation" for o in rec.kinds("order") if o.time > halted_at)


def test_portfolio_level_shield_halts_every_strategy() -> None:
    closes = [100.0, 100.0, *falling(15)]
    glob = MaxDrawdownShield(reduce_only_at=0.02, halt_at=0.04, release_at=0.01)
    engine, rec = make_engine(
        flat_bars(closes),
        [("a", Script({0: Signal.long()})), ("b", Script({1: Signal.long()}))],
        sizer=FixedQuantity(qty=300.0),
        global_shields=[glob],
        cash=10_000.0,
    )
    engine.run_sync()
    trips = rec.kinds("shield_tripped")
    assert trips and all(t.strategy == "*" for t in trips)
    assert {f.strategy for f in rec.kinds("fill") if f.role == "liquidation"} == {"a", "b"}
    assert all(s.halted for s in engine.slots)


def test_loss_streak_in_engine_vetoes_then_releases() -> None:
    # alternate long/flat on a falling market: each round trip loses
    closes = falling(40, step=0.01)
    plan = {i: (Signal.long() if i % 2 == 0 else Signal.flat()) for i in range(40)}
    engine, rec = make_engine(
        flat_bars(closes),
        Script(plan),
        shields=[LossStreakShield(max_losses=2, pause_bars=5)],
    )
    engine.run_sync()
    assert rec.kinds("shield_tripped") and rec.kinds("shield_released")
    assert any(v.shield == "loss_streak" for v in rec.kinds("veto"))


def test_cooldown_in_engine_after_stop_out() -> None:
    closes = [100.0, 100.0, 90.0, 91.0, 92.0, 93.0, 94.0, 95.0, 96.0]
    plan = {0: Signal.long(stop_loss=95.0), 2: Signal.long(), 3: Signal.long(), 6: Signal.long()}
    engine, rec = make_engine(flat_bars(closes), Script(plan), shields=[CooldownShield(bars=3)])
    engine.run_sync()
    stops = [f for f in rec.kinds("fill") if f.role == "stop_loss"]
    assert len(stops) == 1
    assert [t.shield for t in rec.kinds("shield_tripped")] == ["cooldown"]
    assert len(rec.kinds("veto")) == 2  # bars 2 and 3 refused
    entries = [f for f in rec.kinds("fill") if f.role == "entry"]
    assert len(entries) == 2  # the first entry and the one after the cooldown


def test_a_veto_is_stamped_with_the_decision_it_refused() -> None:
    closes = [100.0, 100.0, 90.0, 91.0, 92.0]
    plan = {0: Signal.long(stop_loss=95.0), 2: Signal.long()}
    engine, rec = make_engine(flat_bars(closes), Script(plan), shields=[CooldownShield(bars=3)])
    engine.run_sync()
    (veto,) = rec.kinds("veto")
    refused = [s for s in rec.kinds("signal") if s.time == veto.time]
    assert len(refused) == 1 and veto.time == engine.series[0].time[2]
