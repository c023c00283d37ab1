from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from papertape.engine.errors import DataError
from papertape.engine.feeds.base import BarSeries
from papertape.engine.feeds.trades import load_trades_csv, parse_timeframe, resample_bars

WriteText = Callable[..., Path]

TRADES_HEADER = "timestamp,id,side,price,amount"
T0 = 1_704_067_200 * 10**9  # 2024-01-01T00:00:00Z
SECOND = 10**9
MINUTE = 60 * SECOND


@pytest.fixture
def write_trades(write_text: WriteText) -> Callable[..., Path]:
    """Write a trades CSV from (time, price, amount) triples; time is a string."""

    def write(trades: list[tuple[str, object, object]], name: str = "XRP-ETH.csv") -> Path:
        lines = [f"{t},{i},buy,{p},{a}" for i, (t, p, a) in enumerate(trades, start=1)]
        return write_text("\n".join([TRADES_HEADER, *lines]) + "\n", name)

    return write


HAND_TRADES: list[tuple[str, object, object]] = [
    ("2024-01-01T00:00:05Z", 10, 1),
    ("2024-01-01T00:00:05Z", 12, 2),
    ("2024-01-01T00:00:59.999Z", 9, 0.5),
    ("2024-01-01T00:01:00Z", 11, 3),
    ("2024-01-01T00:03:30Z", 13, 1),
]


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("30s", 30 * SECOND),
        ("1m", MINUTE),
        ("5m", 5 * MINUTE),
        ("1h", 3600 * SECOND),
        ("4h", 4 * 3600 * SECOND),
        ("1d", 86_400 * SECOND),
        (" 15m ", 15 * MINUTE),
    ],
)
def test_parse_timeframe(text: str, ns: int) -> None:
    assert parse_timeframe(text) == ns


@pytest.mark.parametrize("text", ["", "5", "m", "0m", "1M", "1w", "-1m", "1.5h", "five minutes"])
def test_parse_timeframe_rejects_garbage_with_a_clear_error(text: str) -> None:
    with pytest.raises(DataError, match=r"invalid timeframe .* e\.g\. '30s', '5m', '1h', '1d'"):
        parse_timeframe(text)


def test_ticks_keep_every_trade_including_equal_timestamps(
    write_trades: Callable[..., Path],
) -> None:
    ticks = load_trades_csv(write_trades(HAND_TRADES))

    assert ticks.symbol == "XRP-ETH"
    assert ticks.time.tolist() == [
        T0 + 5 * SECOND,
        T0 + 5 * SECOND,
        T0 + 59_999_000_000,
        T0 + MINUTE,
        T0 + 210 * SECOND,
    ]
    assert ticks.close.tolist() == [10.0, 12.0, 9.0, 11.0, 13.0]
    assert ticks.open.tolist() == ticks.close.tolist() == ticks.high.tolist() == ticks.low.tolist()
    assert ticks.volume.tolist() == [1.0, 2.0, 0.5, 3.0, 1.0]
    assert ticks.rejections is not None
    assert ticks.rejections.total == 0


def test_one_minute_bars_match_hand_computed_values(write_trades: Callable[..., Path]) -> None:
    bars = load_trades_csv(write_trades(HAND_TRADES), timeframe="1m")

    # 00:02 had no trade: no bar
    assert bars.time.tolist() == [T0, T0 + MINUTE, T0 + 3 * MINUTE]
    assert bars.open.tolist() == [10.0, 11.0, 13.0]
    assert bars.high.tolist() == [12.0, 11.0, 13.0]
    assert bars.low.tolist() == [9.0, 11.0, 13.0]
    assert bars.close.tolist() == [9.0, 11.0, 13.0]
    assert bars.volume.tolist() == [3.5, 3.0, 1.0]


def test_five_minute_bar_spans_all_trades(write_trades: Callable[..., Path]) -> None:
    bars = load_trades_csv(write_trades(HAND_TRADES), timeframe="5m")

    assert bars.time.tolist() == [T0]
    assert (bars.open[0], bars.high[0], bars.low[0], bars.close[0]) == (10.0, 13.0, 9.0, 13.0)
    assert bars.volume[0] == 7.5


def test_bad_trades_are_rejected_by_reason(write_trades: Callable[..., Path]) -> None:
    trades: list[tuple[str, object, object]] = [
        ("2024-01-01T00:00:01Z", 10, 1),
        ("2024-01-01T00:00:02Z", 0, 1),  # non-positive price
        ("2024-01-01T00:00:02Z", 10, -1),  # negative amount
        ("2024-01-01T00:00:02Z", "", 1),  # missing price
        ("2024-01-01T00:00:02Z", "x", 1),  # unparseable price
        ("2024-01-01T00:00:00Z", 10, 1),  # earlier than the previous trade
        ("2024-01-01T00:00:01Z", 11, 1),  # equal to the previous trade: kept
    ]

    ticks = load_trades_csv(write_trades(trades))

    assert ticks.rejections is not None
    assert ticks.rejections.as_dict() == {
        "missing_value": 1,
        "negative_volume": 1,
        "non_positive_price": 1,
        "out_of_order_timestamp": 1,
        "unparseable": 1,
    }
    assert ticks.close.tolist() == [10.0, 11.0]
    assert [line for line, _, _ in ticks.rejections.examples] == [3, 4, 5, 6, 7]


def test_aggregated_bars_keep_the_trade_rejections(write_trades: Callable[..., Path]) -> None:
    bars = load_trades_csv(write_trades([*HAND_TRADES, ("2024-01-01T00:00:00Z", 5, 1)]), "X", "1m")

    assert bars.symbol == "X"
    assert bars.rejections is not None
    assert bars.rejections.as_dict() == {"out_of_order_timestamp": 1}
    assert len(bars) == 3


def test_missing_trade_column_is_named(write_text: WriteText) -> None:
    path = write_text("timestamp,id,side,price\n2024-01-01,1,buy,10\n")

    with pytest.raises(DataError, match="missing required column 'amount'"):
        load_trades_csv(path)


def test_bad_timeframe_fails_before_reading(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="invalid timeframe '1y'"):
        load_trades_csv(tmp_path / "absent.csv", timeframe="1y")


def test_shipped_trades_file_loads_every_trade(shipped_data: Path) -> None:
    ticks = load_trades_csv(shipped_data / "binance_xrp_eth_trades.csv")
    bars = load_trades_csv(shipped_data / "binance_xrp_eth_trades.csv", timeframe="1h")

    assert len(ticks) == 12477
    assert ticks.rejections is not None
    assert ticks.rejections.total == 0
    assert int(np.count_nonzero(np.diff(ticks.time) == 0)) == 2490
    assert ticks.time[0] == 1_570_752_011_620_000_000  # 2019-10-11T00:00:11.620Z
    assert len(bars) == 60
    assert np.all(bars.time % (3600 * SECOND) == 0)
    assert bars.volume.sum() == pytest.approx(ticks.volume.sum())
    assert bars.high.max() == ticks.high.max()
    assert bars.low.min() == ticks.low.min()


def test_resample_of_empty_series_is_empty() -> None:
    nothing = np.zeros(0)
    empty = BarSeries.from_arrays(
        "E", nothing.astype(np.int64), nothing, nothing, nothing, nothing, nothing
    )

    assert len(resample_bars(empty, "1h")) == 0


def test_resample_rejects_non_positive_step() -> None:
    ones = np.ones(1)
    one = BarSeries.from_arrays("E", ones.astype(np.int64), ones, ones, ones, ones, ones)

    with pytest.raises(DataError, match="must be positive"):
        resample_bars(one, 0)
