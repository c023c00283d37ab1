"""Read-only for real (issue 8 item 7): market arrays and the portfolio a strategy sees.

Strategy code is trusted (it could read the future through numpy or gc internals on purpose),
but nothing it is handed may be turned into a way to change the market or its account.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from papertape.engine.execution.orders import Signal
from papertape.engine.market import ReplayHistory, RingHistory
from papertape.engine.portfolio import Portfolio, PortfolioView
from papertape.engine.strategy import Strategy
from papertape.plugins.sizers import FixedQuantity
from tests.conftest import bars, make_engine

ROWS = [
    (100.0, 101.0, 99.0, 100.0),
    (100.0, 101.0, 99.0, 100.0),  # bar 1: the order decided on bar 0 fills at this open, 100
    (100.0, 101.0, 99.0, 100.0),
]


def _cannot_write(arr: np.ndarray[Any, Any]) -> None:
    with pytest.raises(ValueError, match="WRITEABLE"):
        arr.flags.writeable = True
    with pytest.raises(ValueError, match="WRITEABLE"):
        arr.setflags(write=True)
    with pytest.raises(ValueError, match="read-only"):
        arr[...] = 0.0


class Cheater(Strategy):
    """Tries the issue's exploit: flip ``writeable`` and halve the next bar's open."""

    name = "cheater"

    def __init__(self) -> None:
        super().__init__()
        self.errors: list[str] = []
        self.i = -1

    def on_bar(self, snap: Any, portfolio: Any) -> Any:
        self.i += 1
        if self.i:
            return None
        opens = snap.histories[0].series.open  # the loaded column, future bars included
        for arr in (snap.window("open", 5), opens, opens[1:]):
            try:
                arr.flags.writeable = True
                arr[-1] = 50.0
            except ValueError as exc:
                self.errors.append(str(exc))
        return Signal.long()


def test_a_strategy_cannot_rewrite_the_next_open_and_fill_itself_cheaply() -> None:
    # Had the flip worked, bar 1's open would be 50 and the buy would fill at 50, not 100.
    cheat = Cheater()
    engine, rec = make_engine(bars(ROWS), cheat, sizer=FixedQuantity(qty=1.0))
    engine.run_sync()
    assert len(cheat.errors) == 3
    assert rec.kinds("fill")[0].price == 100.0
    assert engine.series[0].open.tolist() == [100.0, 100.0, 100.0]


def test_series_columns_and_replay_windows_cannot_be_made_writeable() -> None:
    series = bars(ROWS)
    for col in (series.time, series.open, series.high, series.low, series.close, series.volume):
        _cannot_write(col)
    hist = ReplayHistory(series)
    for field in ("time", "open", "high", "low", "close", "volume"):
        _cannot_write(hist.column(field, 2, 2))  # type: ignore[arg-type]


def test_live_ring_windows_cannot_be_made_writeable_but_follow_the_ring() -> None:
    ring = RingHistory("X", capacity=4)
    ring.append(1, 10.0, 11.0, 9.0, 10.5, 5.0)
    ring.append(2, 10.5, 12.0, 10.0, 11.5, 6.0)
    view = ring.column("close", 2, 2)
    _cannot_write(view)
    _cannot_write(ring.column("time", 2, 2))
    assert view.tolist() == [10.5, 11.5]
    ring.append(3, 11.5, 13.0, 11.0, 12.5, 7.0)  # the ring keeps writing its own storage
    assert ring.column("close", 3, 3).tolist() == [10.5, 11.5, 12.5]
    assert ring.value("close", 3) == 12.5


def test_portfolio_view_does_not_expose_the_portfolio() -> None:
    pf = Portfolio("s", 1_000.0)
    view = PortfolioView(pf, {})
    with pytest.raises(AttributeError):
        view._pf  # type: ignore[attr-defined]  # noqa: B018
    with pytest.raises(TypeError):
        vars(view)
    with pytest.raises(AttributeError):
        view.__dict__  # noqa: B018
    with pytest.raises(AttributeError):
        object.__getattribute__(view, "_pf")
    for name in dir(view):
        assert not isinstance(getattr(view, name), Portfolio), name
    with pytest.raises(AttributeError):
        view.cash = 1e9  # type: ignore[misc]
    assert view.cash == 1_000.0 and view.equity == 1_000.0


def test_portfolio_view_reads_the_live_portfolio() -> None:
    from papertape.engine.execution.orders import Fill, OrderRole, Side

    pf = Portfolio("s", 1_000.0)
    marks = {"X": 10.0}
    view = PortfolioView(pf, marks)
    pf.apply(Fill(1, "s", "X", Side.BUY, 5.0, 10.0, 0.5, 0.0, "taker", OrderRole.ENTRY, 7), 0)
    marks["X"] = 12.0
    assert view.qty("X") == 5.0 and view.cash == 949.5
    assert view.equity == 949.5 + 60.0
    assert dict(view.positions) == {"X": 5.0}
    assert view.position("X") is not None and view.position("X").avg_price == 10.0  # type: ignore[union-attr]
    assert (view.strategy, view.initial_cash, view.trades, view.recent_trades(3)) == (
        "s",
        1_000.0,
        (),
        (),
    )
