"""Built-in strategies: signals where an independent computation says they should be."""

from __future__ import annotations

import numpy as np
import pytest

from papertape.engine.config import resolve_data_path
from papertape.engine.errors import ConfigError
from papertape.engine.feeds.loader import load_bars
from papertape.strategies.bollinger_breakout import BollingerBreakout
from papertape.strategies.momentum import Momentum
from papertape.strategies.rsi_reversion import RsiReversion
from papertape.strategies.sma_cross import SmaCross
from tests.conftest import flat_bars, make_engine


def signal_bars(engine, rec):  # type: ignore[no-untyped-def]
    times = engine.series[0].time.tolist()
    return [(times.index(s.time), s.target) for s in rec.kinds("signal")]


def test_sma_cross_signals_match_a_vectorised_reference() -> None:
    series = load_bars(resolve_data_path("sp500_daily.csv"))
    fast, slow = 20, 50
    engine, rec = make_engine(series, SmaCross(fast=fast, slow=slow))
    engine.run_sync()
    c = series.close
    f = np.convolve(c, np.ones(fast) / fast, "valid")[slow - fast :]
    s = np.convolve(c, np.ones(slow) / slow, "valid")
    above = f > s
    crosses = np.nonzero(above[1:] != above[:-1])[0] + 1 + (slow - 1)
    expected = [
        (int(i), "long" if c_above else "flat")
        for i, c_above in zip(crosses, above[crosses - slow + 1], strict=True)
    ]
    assert signal_bars(engine, rec) == expected
    assert len(expected) > 20


def test_sma_cross_short_side_and_validation() -> None:
    closes = [10.0] * 5 + [11, 12, 13, 14, 15] + [14, 13, 12, 11, 10, 9, 8]
    engine, rec = make_engine(flat_bars(closes), SmaCross(fast=2, slow=4, allow_short=True))
    engine.run_sync()
    assert [t for _, t in signal_bars(engine, rec)] == ["long", "short"]
    with pytest.raises(ConfigError, match=r"params\.slow"):
        SmaCross(fast=5, slow=5)


def test_rsi_reversion_buys_the_dip_and_exits_on_recovery() -> None:
    closes = [100.0 - i for i in range(20)] + [80.0 + 2 * i for i in range(20)]
    engine, rec = make_engine(flat_bars(closes), RsiReversion(period=5))
    engine.run_sync()
    sigs = signal_bars(engine, rec)
    assert [t for _, t in sigs] == ["long", "flat"]
    assert sigs[0][0] == 5  # RSI of a strictly falling series is 0 from the first value
    assert 20 <= sigs[1][0] <= 23  # RSI climbs past 50 within a few up bars


def test_bollinger_breakout_enters_on_the_upper_band() -> None:
    closes = [100.0 + (0.5 if i % 2 else -0.5) for i in range(30)] + [105.0, 106.0, 99.0]
    engine, rec = make_engine(flat_bars(closes), BollingerBreakout(period=20, k=2.0))
    engine.run_sync()
    assert signal_bars(engine, rec) == [(30, "long"), (32, "flat")]


def test_momentum_follows_the_lookback_return() -> None:
    closes = [100.0 + i for i in range(10)] + [109.0 - 2 * i for i in range(10)]
    engine, rec = make_engine(flat_bars(closes), Momentum(lookback=3, threshold=0.01))
    engine.run_sync()
    sigs = signal_bars(engine, rec)
    assert sigs[0] == (3, "long")  # 103 / 100 - 1 = 3 % > 1 %
    assert sigs[1][1] == "flat" and 10 < sigs[1][0] <= 12
