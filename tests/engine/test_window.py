"""The run window: warm-up bars feed indicators but never trade; no equity before the start."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from papertape.engine.config import parse_config
from papertape.engine.errors import ConfigError
from papertape.engine.execution.orders import Signal
from papertape.engine.session import run_session, window_of
from papertape.engine.snapshot import Snapshot
from papertape.engine.strategy import Strategy
from papertape.strategies.momentum import Momentum
from tests.conftest import DAY, T0, flat_bars, make_engine

CLOSES = [100.0 + i for i in range(10)]  # bar i stamped T0 + i days, close 100 + i


class AlwaysLong(Strategy):
    """Long on every bar; notes how many bars it had seen each time."""

    name = "always_long"

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[int] = []

    def on_bar(self, snap: Snapshot, portfolio: Any) -> Signal:
        self.seen.append(snap.bars())
        return Signal.long()


def test_warm_up_moments_feed_the_strategy_but_never_trade_or_mark() -> None:
    # trade_from = T0 + 5 days: bars 0..4 are warm-up. The strategy sees all 10 bars; its
    # first order is decided on bar 5 (close 105) and fills at bar 6's open (105); equity
    # is marked only for bars 5..9: 10,000 (flat), then 10,000 - 105 + close = 10,001 .. 10,004.
    strat = AlwaysLong()
    engine, rec = make_engine(flat_bars(CLOSES), strat)
    engine.settings.trade_from = T0 + 5 * DAY
    engine.run_sync()
    assert strat.seen == list(range(1, 11))
    (first, *_) = rec.kinds("signal")
    assert first.time == T0 + 5 * DAY
    (fill,) = rec.kinds("fill")
    assert (fill.price, fill.time) == (105.0, T0 + 6 * DAY)
    assert list(engine.step_times) == [T0 + k * DAY for k in range(5, 10)]
    assert list(engine.slots[0].portfolio.curve) == [
        10_000.0,
        10_001.0,
        10_002.0,
        10_003.0,
        10_004.0,
    ]


def test_stepping_starts_after_the_warm_up() -> None:
    strat = AlwaysLong()
    engine, _ = make_engine(flat_bars(CLOSES), strat)
    engine.settings.trade_from = T0 + 5 * DAY
    engine.start()
    first = engine.step()
    assert first.time == T0 + 5 * DAY and strat.seen == [1, 2, 3, 4, 5, 6]
    engine.finish()


def _config(**run: Any) -> Any:
    return parse_config(
        {
            "run": {"name": "win", **run},
            "data": [{"path": "X"}],
            "strategies": [{"name": "sma_cross", "params": {"fast": 2, "slow": 3}}],
            "plugins": {"entry_points": False},
        }
    )


def test_the_config_window_cuts_the_data_and_keeps_warm_up_bars() -> None:
    # start = day 5, end = day 8, 2 warm-up bars: bars 3..7 are kept, trading from day 5.
    series = flat_bars(CLOSES)
    iso = [str(np.datetime64(T0 + k * DAY, "ns"))[:10] for k in range(10)]
    (cut,), trade_from = window_of(_config(start=iso[5], end=iso[8], warmup_bars=2), [series])
    assert cut.close.tolist() == CLOSES[3:8] and trade_from == T0 + 5 * DAY
    result = run_session(_config(start=iso[5], end=iso[8], warmup_bars=2), [series], False)
    assert result.bars == 5
    (only,) = result.strategies.values()
    assert len(only.equity) == 3  # marked on days 5, 6 and 7 only


def test_a_window_the_data_does_not_reach_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"run\.start"):
        window_of(_config(start="2100-01-01"), [flat_bars(CLOSES)])
    with pytest.raises(ConfigError, match=r"run\.end"):
        window_of(_config(start="2020-01-02", end="2020-01-01"), [flat_bars(CLOSES)])
    with pytest.raises(ConfigError, match=r"run\.start"):
        window_of(_config(start="yesterday"), [flat_bars(CLOSES)])


def test_the_run_id_changes_with_the_window_the_data_and_the_version() -> None:
    from papertape.engine.session import identified

    series = [flat_bars(CLOSES)]
    other_data = [flat_bars([*CLOSES[:-1], 999.0])]
    base = identified(_config(), series)
    assert identified(_config(), series).run_id == base.run_id  # deterministic
    assert identified(_config(start="2020-09-20"), series).run_id != base.run_id
    assert identified(_config(), other_data).run_id != base.run_id
    bumped = base.model_copy(update={"run": base.run.model_copy(update={"version": "99.0"})})
    assert bumped.run_id != base.run_id


def test_a_stance_taken_in_the_warm_up_is_traded_when_the_window_opens() -> None:
    # momentum over 2 bars is long from bar 2 on (rising closes). Its TargetMemory must not
    # remember the long it asked for in the warm-up (the engine dropped it), or the strategy
    # believes it is long while the book is flat and never trades the window.
    strat = Momentum(lookback=2)
    engine, rec = make_engine(flat_bars(CLOSES), strat)
    engine.settings.trade_from = T0 + 5 * DAY
    engine.run_sync()
    (signal,) = rec.kinds("signal")
    assert signal.time == T0 + 5 * DAY and signal.target == "long"
    (fill,) = rec.kinds("fill")
    assert (fill.price, fill.time) == (105.0, T0 + 6 * DAY)
