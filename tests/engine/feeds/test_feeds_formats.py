"""Real-world CSV layouts: Binance klines and trades, open_time headers, float epochs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from papertape.engine.errors import DataError
from papertape.engine.feeds.base import RejectReason
from papertape.engine.feeds.csv import load_csv, read_columns
from papertape.engine.feeds.loader import load_bars
from papertape.engine.feeds.timestamps import parse_timestamps
from papertape.engine.feeds.validate import OHLCV_COLUMNS

WriteText = Callable[..., Path]
ENGINES = pytest.mark.parametrize("engine", ["arrow", "text"])

MS_2024 = 1_704_067_200_000  # 2024-01-01T00:00:00Z in ms
MINUTE_MS = 60_000

# Two rows of a real Binance spot kline export (BTCUSDT-1m-2024-01-01.csv), no header.
BINANCE_KLINES = (
    "1704067200000,42283.58000000,42298.62000000,42261.02000000,42298.61000000,35.92724000,"
    "1704067259999,1519032.99064000,1327,18.82240000,795894.24510700,0\n"
    "1704067260000,42298.62000000,42320.00000000,42298.61000000,42320.00000000,21.07112000,"
    "1704067319999,891385.95657000,817,14.60722000,617944.14416100,0\n"
)
BINANCE_HEADER = (
    "open_time,open,high,low,close,volume,close_time,quote_volume,count,"
    "taker_buy_volume,taker_buy_quote_volume,ignore\n"
)


@ENGINES
def test_binance_kline_export_without_header_loads(write_text: WriteText, engine: str) -> None:
    series = load_csv(write_text(BINANCE_KLINES, "BTCUSDT-1m.csv"), engine=engine, cache=False)

    assert series.time.tolist() == [MS_2024 * 10**6, (MS_2024 + MINUTE_MS) * 10**6]
    assert series.open.tolist() == [42283.58, 42298.62]
    assert series.close.tolist() == [42298.61, 42320.0]
    assert series.volume.tolist() == [35.92724, 21.07112]
    assert series.rejections is not None and series.rejections.total == 0


@ENGINES
def test_binance_microsecond_klines_are_read_by_magnitude(
    write_text: WriteText, engine: str
) -> None:
    # Binance spot exports switched open_time to microseconds in 2025.
    text = BINANCE_KLINES.replace("1704067200000,", "1704067200000000,").replace(
        "1704067260000,", "1704067260000000,"
    )

    series = load_csv(write_text(text), engine=engine, cache=False)

    assert series.time.tolist() == [MS_2024 * 10**6, (MS_2024 + MINUTE_MS) * 10**6]


@ENGINES
def test_open_time_header_is_a_timestamp_column(write_text: WriteText, engine: str) -> None:
    series = load_csv(write_text(BINANCE_HEADER + BINANCE_KLINES), engine=engine, cache=False)

    assert len(series) == 2
    assert series.time[0] == MS_2024 * 10**6


def test_loader_detects_header_less_klines_as_bars(write_text: WriteText) -> None:
    series = load_bars(write_text(BINANCE_KLINES, "k.csv"), timeframe="2m", cache=False)

    assert len(series) == 1
    assert series.high.tolist() == [42320.0]


@ENGINES
@pytest.mark.parametrize(
    "stamps",
    [
        ("1.704067200e12", "1.70406726e12"),
        ("1704067200000.0", "1704067260000.0"),
        ("1704067200.0", "1704067260.0"),  # float seconds
        ("1704067200000", "1.70406726e12"),  # ints and floats mixed: read as floats
    ],
)
def test_epochs_written_as_floats_load(
    write_text: WriteText, engine: str, stamps: tuple[str, str]
) -> None:
    rows = [f"{t},10,12,9,11,5" for t in stamps]
    path = write_text("timestamp,open,high,low,close,volume\n" + "\n".join(rows) + "\n")

    series = load_csv(path, engine=engine, cache=False)

    assert series.time.tolist() == [MS_2024 * 10**6, (MS_2024 + MINUTE_MS) * 10**6]


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("1704067200", MS_2024 * 10**6),  # < 1e11: seconds
        ("1704067200123", MS_2024 * 10**6 + 123_000_000),  # < 1e14: milliseconds
        ("1704067200123456", MS_2024 * 10**6 + 123_456_000),  # < 1e17: microseconds
        ("1704067200123456789", MS_2024 * 10**6 + 123_456_789),  # else nanoseconds
        ("1704067200.5", MS_2024 * 10**6 + 500_000_000),
        ("1.7040672001235e12", MS_2024 * 10**6 + 123_500_000),  # exact in binary
    ],
)
def test_epoch_unit_follows_the_documented_magnitude_rule(text: str, ns: int) -> None:
    times, bad = parse_timestamps([text])

    assert times.tolist() == [ns]
    assert not bad.any()


@pytest.mark.parametrize("value", ["nan", "inf", "1e400", "abc"])
def test_non_finite_float_epochs_are_unparseable(value: str) -> None:
    times, bad = parse_timestamps(["1.7e12", value])

    assert bad.tolist() == [False, True]
    assert times[0] == 1_700_000_000_000 * 10**6


@ENGINES
def test_bad_float_epoch_row_is_rejected_with_its_line(write_text: WriteText, engine: str) -> None:
    text = "timestamp,open,high,low,close,volume\n1.7e12,10,12,9,11,5\nnan,10,12,9,11,5\n"

    series = load_csv(write_text(text), engine=engine, cache=False)

    assert series.rejections is not None
    assert series.rejections.examples[0][:2] == (3, RejectReason.UNPARSEABLE)


@ENGINES
def test_header_less_six_columns_are_timestamp_ohlcv(write_text: WriteText, engine: str) -> None:
    path = write_text("2024-01-01,10,12,9,11,5\n2024-01-02,11,13,10,12,6\n")

    series = load_csv(path, engine=engine, cache=False)

    assert series.close.tolist() == [11.0, 12.0]
    assert series.time[0] == MS_2024 * 10**6


@ENGINES
def test_header_less_file_numbers_rows_from_line_one(write_text: WriteText, engine: str) -> None:
    path = write_text("2024-01-01,10,12,9,11,5\n2024-01-02,11,13,10,12,-6\n")

    series = load_csv(path, engine=engine, cache=False)

    assert series.rejections is not None
    assert series.rejections.examples[0][:2] == (2, RejectReason.NEGATIVE_VOLUME)


@ENGINES
def test_header_less_file_of_unknown_width_says_why(write_text: WriteText, engine: str) -> None:
    path = write_text("1704067200000,10,12,9,11\n")

    with pytest.raises(DataError, match=r"first line has no column names.*5 columns.*Binance"):
        load_csv(path, engine=engine, cache=False)


def test_header_less_binance_trades_load_as_ticks(write_text: WriteText) -> None:
    text = (
        "3350000001,42283.58,0.0019,80.34,1704067200000,True,True\n"
        "3350000002,42283.59,0.5,21141.79,1704067200000,False,True\n"
        "3350000003,42284.00,0.1,4228.4,1704067201000,False,True\n"
    )

    series = load_bars(write_text(text, "BTCUSDT-trades.csv"), cache=False)

    assert series.close.tolist() == [42283.58, 42283.59, 42284.0]
    assert series.volume.tolist() == [0.0019, 0.5, 0.1]
    assert series.time[-1] == (MS_2024 + 1000) * 10**6


def test_fast_reader_handles_the_binance_layout(write_text: WriteText) -> None:
    parsed = read_columns(write_text(BINANCE_KLINES), OHLCV_COLUMNS, engine="arrow")

    assert parsed.reader == "arrow"
    assert parsed.lines.tolist() == [1, 2]
