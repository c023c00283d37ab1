from __future__ import annotations

from pathlib import Path

import numpy as np

from papertape.engine.feeds.base import BarSeries, merge_series
from papertape.engine.feeds.csv import load_csv


def series(symbol: str, times: list[int]) -> BarSeries:
    n = len(times)
    close = np.arange(1.0, n + 1.0)
    return BarSeries.from_arrays(symbol, np.array(times), close, close, close, close, close)


def test_merge_orders_by_time_with_ties_in_series_order() -> None:
    a = series("A", [1, 3, 5])
    b = series("B", [1, 2, 5, 6])
    c = series("C", [3])

    order = merge_series([a, b, c])

    assert order.time.tolist() == [1, 1, 2, 3, 3, 5, 5, 6]
    assert order.symbol.tolist() == [0, 1, 1, 0, 2, 0, 1, 1]
    assert order.row.tolist() == [0, 0, 1, 1, 0, 2, 2, 3]
    assert order.last_in_step.tolist() == [False, True, True, False, True, False, True, True]


def test_merge_tie_order_follows_the_list_not_the_symbol_name() -> None:
    order = merge_series([series("Z", [7, 8]), series("A", [7, 8])])

    assert order.symbol.tolist() == [0, 1, 0, 1]
    assert order.last_in_step.tolist() == [False, True, False, True]


def test_merge_of_nothing_and_of_one_series() -> None:
    assert len(merge_series([])) == 0
    single = merge_series([series("A", [4, 9])])
    assert single.row.tolist() == [0, 1]
    assert single.last_in_step.tolist() == [True, True]


def test_merge_of_shipped_eth_and_ltc_alternates_every_step(shipped_data: Path) -> None:
    eth = load_csv(shipped_data / "binance_eth_btc_5m.csv")
    ltc = load_csv(shipped_data / "binance_ltc_btc_5m.csv")

    order = merge_series([eth, ltc])

    assert len(order) == 2 * 5760
    assert order.symbol.tolist() == [0, 1] * 5760
    assert int(order.last_in_step.sum()) == 5760
    assert np.all(np.diff(order.time) >= 0)
