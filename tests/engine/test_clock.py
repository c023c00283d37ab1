"""The bar-close clock: no look-ahead across symbols or timeframes, shields at decision time.

Each test is built from a tiny hand-made data set; the right answer is worked out in comments.
"""

from __future__ import annotations

from typing import Any

from papertape.engine.execution.orders import Signal
from papertape.engine.risk import MaxDrawdownShield
from papertape.engine.snapshot import Snapshot
from papertape.engine.strategy import Strategy
from papertape.plugins.sizers import FixedQuantity
from tests.conftest import DAY, T0, Script, bars, flat_bars, make_engine

HOUR = DAY // 24


def test_an_order_decided_on_one_symbol_never_fills_on_the_others_past_open() -> None:
    # A and B both open bar 1 at 100 and close it at 150. A strategy sees A close at 150
    # (end of bar 1) and buys B. Bar 1 of B opened at 100 *before* that decision, so the
    # order may only fill on B's bar 2, which opens at 150: fill at 150 on T0 + 2 days.
    rows = [(100.0, 100.0, 100.0, 100.0), (100.0, 150.0, 100.0, 150.0), (150.0,) * 4]
    a, b = bars(rows, "A"), bars(rows, "B")

    class BuyBOnA(Strategy):
        name = "buy_b_on_a"

        def on_bar(self, snap: Snapshot, portfolio: Any) -> Signal | None:
            if snap.symbol == "A" and snap.last(symbol="A") == 150.0:
                return Signal.long(symbol="B")
            return None

    engine, rec = make_engine([a, b], BuyBOnA())
    engine.run_sync()
    (fill,) = rec.kinds("fill")
    assert (fill.symbol, fill.price, fill.time) == ("B", 150.0, T0 + 2 * DAY)


def test_a_daily_bar_is_invisible_to_hourly_decisions_until_it_closes() -> None:
    # Hourly H (48 bars from T0) and daily D (2 bars from T0). Hourly bar k closes at
    # T0 + (k+1) h; D's first bar closes at T0 + 24 h, together with hourly bar 23, and the
    # second at T0 + 48 h with hourly bar 47. So the hourly decisions see 0 D bars for
    # k = 0..22, one for k = 23..46 and two at k = 47 (main showed the day from 00:00).
    h = flat_bars([1.0] * 48, "H", step=HOUR)
    d = flat_bars([100.0, 101.0], "D")
    seen: list[int] = []

    class Watch(Strategy):
        name = "watch"

        def on_bar(self, snap: Snapshot, portfolio: Any) -> None:
            if snap.symbol == "H":
                seen.append(snap.bars("D"))

    engine, _ = make_engine([h, d], Watch())
    engine.run_sync()
    assert seen == [0] * 23 + [1] * 24 + [2]
    assert len(engine.step_times) == 48  # one step per closing moment of the hourly clock


def test_equity_marks_use_a_daily_close_only_once_the_day_is_over() -> None:
    # D (daily): day 0 at 100, day 1 opens 100 and closes 200, day 2 at 200. H (hourly, 72
    # bars at 1). The strategy buys 1 D at the first hourly decision that sees a D bar: at
    # T0 + 24 h (day 0 closed). Day 1 opens at T0 + 24 h, so the order fills there at 100.
    # Day 1's close (200) exists only at T0 + 48 h, the close of hourly bar 47: equity is
    # 10,000 on the 47 steps before and 10,000 - 100 + 200 = 10,100 from step index 47 on.
    d = bars([(100.0,) * 4, (100.0, 200.0, 100.0, 200.0), (200.0,) * 4], "D")
    h = flat_bars([1.0] * 72, "H", step=HOUR)

    class BuyDOnce(Strategy):
        name = "buy_d_once"

        def __init__(self) -> None:
            super().__init__()
            self.done = False

        def on_bar(self, snap: Snapshot, portfolio: Any) -> Signal | None:
            if snap.symbol == "H" and snap.bars("D") >= 1 and not self.done:
                self.done = True
                return Signal.long(symbol="D")
            return None

    engine, rec = make_engine([d, h], BuyDOnce())
    engine.run_sync()
    (fill,) = rec.kinds("fill")
    assert (fill.price, fill.time) == (100.0, T0 + DAY)
    curve = list(engine.slots[0].portfolio.curve)
    assert len(curve) == 72
    assert curve[:47] == [10_000.0] * 47 and curve[47:] == [10_100.0] * 25


def test_an_hourly_decision_fills_on_the_next_daily_bar_not_the_one_already_open() -> None:
    # The order for D is decided at T0 + 6 h (close of hourly bar 5). D's bar 0 opened at T0,
    # before the decision, so it cannot fill there even though that bar is processed later
    # (at its close, T0 + 24 h); it fills at the open of D's next bar (T0 + 24 h, price 110).
    h = flat_bars([1.0] * 48, "H", step=HOUR)
    plan = {5: Signal.long(symbol="D")}

    class AtHour(Strategy):
        name = "at_hour"

        def __init__(self) -> None:
            super().__init__()
            self.k = -1

        def on_bar(self, snap: Snapshot, portfolio: Any) -> Signal | None:
            if snap.symbol != "H":
                return None
            self.k += 1
            return plan.get(self.k)

    # D needs a price when the order is decided: a bar from T0 - 1 day closes at T0.
    d = bars([(90.0,) * 4, (100.0,) * 4, (110.0, 120.0, 105.0, 115.0)], "D", t0=T0 - DAY)
    engine, rec = make_engine([d, h], AtHour())
    engine.run_sync()
    (fill,) = rec.kinds("fill")
    assert (fill.price, fill.time) == (110.0, T0 + DAY)


def test_the_drawdown_shield_acts_on_the_order_decided_on_the_crash_bar() -> None:
    # Long 20 from bar 1's open (100). Bar 2 crashes to 80: equity 8,000 + 20 x 80 = 9,600,
    # a 4 % drawdown from 10,000, past reduce_only_at = 3 %. The flip to short decided on that
    # close (sell 40) must be judged against that equity: only the reducing 20 may pass, so
    # the position ends flat instead of short 20.
    shield = MaxDrawdownShield(reduce_only_at=0.03, halt_at=0.5, release_at=0.01)
    engine, rec = make_engine(
        flat_bars([100.0, 100.0, 80.0, 80.0]),
        Script({0: Signal.long(), 2: Signal.short()}),
        sizer=FixedQuantity(qty=20.0),
        shields=[shield],
    )
    engine.run_sync()
    (trip,) = rec.kinds("shield_tripped")
    assert trip.state == "reduce_only" and trip.time == T0 + 2 * DAY
    (veto,) = rec.kinds("veto")
    assert (veto.requested_qty, veto.allowed_qty) == (40.0, 20.0)
    assert engine.slots[0].portfolio.positions == {}


def test_held_orders_that_were_replaced_are_forgotten() -> None:
    # An hourly strategy re-decides its daily order every hour (long, short, ...): each
    # decision cancels the held one. 60 days = 1,440 hours of such churn must not leave
    # 1,440 held-order entries behind: they are pruned past PRUNE_AT.
    from papertape.engine.pipeline.booking import PRUNE_AT

    d = flat_bars([100.0 + (i % 3) for i in range(61)], "D")
    h = flat_bars([1.0] * 24 * 60, "H", step=HOUR)

    class Churn(Strategy):
        name = "churn"

        def on_bar(self, snap: Snapshot, portfolio: Any) -> Signal | None:
            if snap.symbol != "H" or snap.bars("D") == 0:
                return None
            return Signal.long(symbol="D") if snap.bars() % 2 else Signal.short(symbol="D")

    engine, rec = make_engine([d, h], Churn())
    engine.run_sync()
    assert len(rec.kinds("order")) > PRUNE_AT
    assert len(engine._not_before) <= PRUNE_AT + 1
