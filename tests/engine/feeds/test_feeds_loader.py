from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from papertape.engine.errors import DataError, DataFileNotFound
from papertape.engine.feeds.csv import load_csv
from papertape.engine.feeds.loader import detect_kind, load_bars

WriteText = Callable[..., Path]

T0 = 1_704_067_200 * 10**9  # 2024-01-01T00:00:00Z
TRADES = (
    "timestamp,id,side,price,amount\n2024-01-01T00:00:01Z,1,buy,10,1\n"
    "2024-01-01T00:00:01Z,2,sell,11,2\n"
)
BARS = "timestamp,open,high,low,close,volume\n2024-01-01,10,12,9,11,100\n"


@pytest.mark.parametrize(
    ("columns", "kind"),
    [
        (["timestamp", "open", "high", "low", "close", "volume"], "ohlcv"),
        (["Date", "Open", "High", "Low", "Close"], "ohlcv"),
        (["timestamp", "id", "side", "price", "amount"], "trades"),
    ],
)
def test_detect_kind(columns: list[str], kind: str) -> None:
    assert detect_kind(columns) == kind


def test_detect_kind_names_the_columns_it_could_not_place() -> None:
    with pytest.raises(DataError, match=r"columns found: \['a', 'b'\]"):
        detect_kind(["a", "b"], "x.csv")


def test_csv_bars_and_trades_are_told_apart_by_header(write_text: WriteText) -> None:
    bars = load_bars(write_text(BARS, "SPY.csv"))
    ticks = load_bars(write_text(TRADES, "XRP.CSV"))

    assert (bars.symbol, bars.time.tolist(), bars.close.tolist()) == ("SPY", [T0], [11.0])
    assert ticks.symbol == "XRP"
    assert ticks.time.tolist() == [T0 + 10**9, T0 + 10**9]  # same-time trades both kept
    assert ticks.close.tolist() == [10.0, 11.0]


def test_trades_with_timeframe_become_bars(write_text: WriteText) -> None:
    bars = load_bars(write_text(TRADES), timeframe="1m")

    assert bars.time.tolist() == [T0]
    assert (bars.open[0], bars.high[0], bars.low[0], bars.close[0], bars.volume[0]) == (
        10.0,
        11.0,
        10.0,
        11.0,
        3.0,
    )


def test_explicit_kind_overrides_detection(write_text: WriteText) -> None:
    path = write_text(TRADES)

    with pytest.raises(DataError, match="missing required column 'open'"):
        load_bars(path, kind="ohlcv")


def test_unknown_kind_is_refused(write_text: WriteText) -> None:
    with pytest.raises(DataError, match="unknown data kind 'ticks'"):
        load_bars(write_text(BARS), kind="ticks")  # type: ignore[arg-type]


@pytest.mark.parametrize("suffix", [".parquet", ".pq"])
def test_parquet_suffixes_dispatch_to_parquet(
    shipped_data: Path, tmp_path: Path, suffix: str
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    bars = load_csv(shipped_data / "binance_eth_btc_5m.csv")
    table = pa.table(
        {
            "timestamp": pa.array(bars.time // 10**6, pa.int64()),  # epoch milliseconds
            **{name: getattr(bars, name) for name in ("open", "high", "low", "close", "volume")},
        }
    )
    path = tmp_path / f"ETH-BTC{suffix}"
    pq.write_table(table, path)

    loaded = load_bars(path)

    assert loaded.symbol == "ETH-BTC"
    np.testing.assert_array_equal(loaded.time, bars.time)
    np.testing.assert_array_equal(loaded.close, bars.close)


def test_trades_in_parquet_are_refused_clearly(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"timestamp": [1], "price": [1.0], "amount": [1.0]}), path)

    with pytest.raises(DataError, match="trades in Parquet files are not supported"):
        load_bars(path)


def test_ohlcv_bars_resample_to_a_coarser_timeframe(shipped_data: Path) -> None:
    minute = load_csv(shipped_data / "binance_altbtc_1m.csv")

    hourly = load_bars(shipped_data / "binance_altbtc_1m.csv", timeframe="1h")

    first_hour = minute.time < hourly.time[1]
    assert hourly.time[0] == np.datetime64("2017-11-04T23:00", "ns").astype(np.int64)
    assert hourly.open[0] == minute.open[0]
    assert hourly.high[0] == minute.high[first_hour].max()
    assert hourly.low[0] == minute.low[first_hour].min()
    assert hourly.close[0] == minute.close[first_hour][-1]
    assert hourly.volume[0] == pytest.approx(minute.volume[first_hour].sum())
    assert len(hourly) == 240
    assert hourly.volume.sum() == pytest.approx(minute.volume.sum())


def test_bars_cannot_be_resampled_finer(shipped_data: Path) -> None:
    with pytest.raises(DataError, match="cannot resample bars spaced 86400s into finer '1h'"):
        load_bars(shipped_data / "sp500_daily.csv", timeframe="1h")


@pytest.mark.parametrize("name", ["gone.csv", "gone.parquet", "gone.txt"])
def test_missing_file_is_data_file_not_found(tmp_path: Path, name: str) -> None:
    with pytest.raises(DataFileNotFound, match=re.escape(name)):
        load_bars(tmp_path / name)


def test_unsupported_extension_lists_supported_ones(write_text: WriteText) -> None:
    with pytest.raises(DataError, match=r"unsupported file type '\.json'; expected \.csv, "):
        load_bars(write_text("{}", "bars.json"))


def test_empty_csv_is_a_data_error(write_text: WriteText) -> None:
    with pytest.raises(DataError, match="file is empty"):
        load_bars(write_text("\n"))
