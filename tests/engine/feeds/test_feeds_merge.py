from __future__ import annotations

from pathlib import Path

import numpy as np

from papertape.engine.feeds.base import BarSeries, close_times, merge_series
from papertape.engine.feeds.csv import load_csv


def series(symbol: str, times: list[int]) -> BarSeries:
    n = len(times)
    close = np.arange(1.0, n + 1.0)
    return BarSeries.from_arrays(symbol, np.array(times), close, close, close, close, close)


def test_merge_orders_by_close_then_open_with_ties_in_series_order() -> None:
    a = series("A", [1, 3, 5])  # interval 2: closes at 3, 5, 7
    b = series("B", [1, 2, 5, 6])  # interval 1: closes at 2, 3, 6, 7
    c = series("C", [3])  # one bar, no interval: closes at its open, 3

    order = merge_series([a, b, c])

    # (close, open): B0 (2,1) | A0 (3,1) B1 (3,2) C0 (3,3) | A1 (5,3) | B2 (6,5) | A2 (7,5) B3 (7,6)
    assert order.clock.tolist() == [2, 3, 3, 3, 5, 6, 7, 7]
    assert order.time.tolist() == [1, 1, 2, 3, 3, 5, 5, 6]
    assert order.symbol.tolist() == [1, 0, 1, 2, 0, 1, 0, 1]
    assert order.row.tolist() == [0, 0, 1, 0, 1, 2, 2, 3]
    assert order.last_in_step.tolist() == [True, False, False, True, True, True, False, True]


def test_a_bar_closes_one_interval_after_its_open_or_at_the_next_open() -> None:
    # Daily bars with a weekend gap: Friday (day 4) closes at day 5, not at Monday's open.
    fri_mon = series("X", [0, 1, 2, 3, 4, 7, 8])
    assert close_times(fri_mon).tolist() == [1, 2, 3, 4, 5, 8, 9]
    # An irregular spacing shorter than the interval: the bar closes when the next opens.
    assert close_times(series("Y", [0, 10, 20, 25, 35])).tolist() == [10, 20, 25, 35, 45]


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
