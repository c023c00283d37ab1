"""``sma_cross`` with ``entry = "trend"``: in the market from the first bar it may trade.

Checked against backtesting.py on the shipped S&P 500 bars: its SMA-cross example turned into
a trend follower (``if sma1[-1] > sma2[-1] and not self.position.is_long: self.buy()``) must
make the same trades and end with the same equity. Settings are made comparable as in
``tests/engine/execution/test_vs_backtesting.py``: orders fill on the next bar's open, 10 bp
of notional in fees on both sides (``commission=0.001``), no slippage, whole units and cash
that never binds. backtesting.py calls ``next()`` first on bar ``slow`` (one bar after the
slow average has its first value, bar ``slow - 1``), so papertape's run trades from bar
``slow`` too: the bar before is its warm-up, where the strategy already sees its averages
(and ``entry = "trend"`` must not count the warm-up's stance as held).
"""

from __future__ import annotations

import warnings
from typing import Any

import backtesting as bt
import numpy as np
import pandas as pd
import pytest

from papertape.engine.config import PACKAGED_DATA, parse_config
from papertape.engine.errors import ConfigError
from papertape.engine.execution.account import Account
from papertape.engine.execution.fees import FeeSchedule
from papertape.engine.feeds.base import BarSeries
from papertape.engine.feeds.loader import load_bars
from papertape.engine.session import run_session
from papertape.plugins.sizers import FixedQuantity
from papertape.strategies.sma_cross import SmaCross
from tests.conftest import flat_bars, make_engine

QTY, CASH = 10, 1_000_000.0


def _spx() -> BarSeries:
    return load_bars(PACKAGED_DATA / "sp500_daily.csv", "SPX")


def _backtesting(series: BarSeries, fast: int, slow: int, short: bool) -> tuple[Any, float]:
    frame = pd.DataFrame(
        {
            "Open": series.open,
            "High": series.high,
            "Low": series.low,
            "Close": series.close,
            "Volume": series.volume,
        },
        index=pd.to_datetime(np.asarray(series.time)),
    )

    def sma(values: Any, n: int) -> Any:
        return pd.Series(values).rolling(n).mean()

    class SmaTrend(bt.Strategy):  # type: ignore[misc,name-defined]
        def init(self) -> None:
            self.sma1 = self.I(sma, self.data.Close, fast)
            self.sma2 = self.I(sma, self.data.Close, slow)

        def next(self) -> None:
            if self.sma1[-1] > self.sma2[-1]:
                if not self.position.is_long:
                    self.buy(size=QTY)  # exclusive orders: a short is closed first
            elif short:
                if not self.position.is_short:
                    self.sell(size=QTY)
            elif self.position.is_long:
                self.position.close()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its notice that the last trade is still open
        stats = bt.Backtest(
            frame,
            SmaTrend,
            cash=CASH,
            commission=0.001,
            margin=1.0,
            exclusive_orders=True,
        ).run()
    return stats._trades, float(stats["Equity Final [$]"])


def _papertape(series: BarSeries, fast: int, slow: int, short: bool) -> tuple[list[Any], float]:
    strategy = SmaCross(fast=fast, slow=slow, allow_short=short, entry="trend")
    engine, _ = make_engine(
        series,
        strategy,
        sizer=FixedQuantity(qty=QTY),
        fees=FeeSchedule(maker_bps=10.0, taker_bps=10.0),
        cash=CASH,
        account=Account("margin", max_leverage=1.0),
    )
    engine.settings.trade_from = int(series.time[slow])  # backtesting.py's first next()
    engine.run_sync()
    pf = engine.slots[0].portfolio
    return list(pf.trades), float(pf.curve[-1])


@pytest.mark.parametrize(
    ("fast", "slow", "short", "first_fill"),
    [
        (10, 30, False, 37),  # the trend turns up on bar 36, after the first tradable bar
        (20, 50, True, 51),  # up since the warm-up bar 49: long from the first tradable bar
    ],
)
def test_trend_entry_makes_the_trades_of_a_backtesting_py_trend_follower(
    fast: int, slow: int, short: bool, first_fill: int
) -> None:
    series = _spx()
    theirs, their_equity = _backtesting(series, fast, slow, short)
    ours, our_equity = _papertape(series, fast, slow, short)
    assert theirs.iloc[0].EntryTime.value == ours[0].entry_time == int(series.time[first_fill])
    assert len(ours) == len(theirs) > 50  # closed trades (the last one is open in both)
    for t, (_, row) in zip(ours, theirs.iterrows(), strict=True):
        assert t.side == (1 if row.Size > 0 else -1) and t.qty == QTY
        assert (t.entry_time, t.exit_time) == (row.EntryTime.value, row.ExitTime.value)
        assert t.entry_price == pytest.approx(row.EntryPrice, abs=1e-9)
        assert t.exit_price == pytest.approx(row.ExitPrice, abs=1e-9)
        assert t.pnl == pytest.approx(row.PnL, abs=0.005)
    assert round(our_equity, 2) == round(their_equity, 2)


def _window(start: str) -> Any:
    """Both entries side by side on the S&P 500, trading from ``start``."""
    return parse_config(
        {
            "run": {"name": "sma-entry", "start": start, "warmup_bars": 100},
            "data": [{"path": "sp500_daily.csv", "symbol": "SPX"}],
            "strategies": [
                {"name": "sma_cross", "id": "cross", "params": {"fast": 10, "slow": 30}},
                {
                    "name": "sma_cross",
                    "id": "trend",
                    "params": {"fast": 10, "slow": 30, "entry": "trend"},
                },
            ],
            "plugins": {"entry_points": False},
        }
    )


def test_in_a_window_trend_is_long_from_the_first_bar_and_cross_waits_for_a_cross() -> None:
    start = "2013-01-02"
    spx = _spx()
    first = int(np.searchsorted(spx.time, np.datetime64(start, "ns").astype(np.int64)))
    c = spx.close[: first + 200]
    f = pd.Series(c).rolling(10).mean().to_numpy()
    s = pd.Series(c).rolling(30).mean().to_numpy()
    above = f > s
    assert above[first - 10 : first + 1].all()  # the fast average has been above for days
    next_cross = first + int(np.argmin(above[first:]))  # the first bar it is not
    assert next_cross > first + 5
    result = run_session(_window(start), journal=False)
    trend, cross = result.strategies["trend"], result.strategies["cross"]
    # "trend" asks for the long on the window's first bar and fills on the next bar's open
    assert trend.trades[0].entry_time == int(spx.time[first + 1])
    assert trend.trades[0].exit_time == int(spx.time[next_cross + 1])  # flat on the cross down
    # "cross" sits flat until a cross inside the window: its first entry is after that exit
    assert cross.trades[0].entry_time > trend.trades[0].exit_time
    assert trend.equity[1] != trend.equity[0] and cross.equity[1] == cross.equity[0]


def test_trend_is_cross_after_the_first_bar_and_cross_stays_the_default() -> None:
    closes = [10.0, 11, 12, 13, 14, 15, 16, 15, 14, 13, 12, 11, 12, 13, 14, 15]
    signals = {}
    for entry in ("cross", "trend", None):
        params: dict[str, Any] = {"fast": 2, "slow": 4, "allow_short": True}
        if entry is not None:
            params["entry"] = entry
        engine, rec = make_engine(flat_bars(closes), SmaCross(**params))
        engine.run_sync()
        signals[entry] = [(s.time, s.target) for s in rec.kinds("signal")]
    assert signals[None] == signals["cross"]  # the default is unchanged
    assert signals["trend"][0][1] == "long"  # the state found on the first bar with both SMAs
    assert signals["trend"][1:] == signals["cross"]  # then every cross, as "cross" does
    with pytest.raises(ConfigError, match=r"params\.entry"):
        SmaCross(entry="state")
