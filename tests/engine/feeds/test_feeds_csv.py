from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from papertape.engine.errors import DataError, DataFileNotFound
from papertape.engine.feeds.base import RejectReason
from papertape.engine.feeds.csv import load_csv, parse_floats, parse_timestamps
from papertape.engine.feeds.validate import TIME_MISSING

WriteBars = Callable[..., Path]
BarLine = Callable[..., str]
WriteText = Callable[..., Path]

OCT_11_2019_00_00_11 = 1_570_752_011 * 10**9


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("1999-01-04", 915_408_000 * 10**9),
        ("2019-10-11T00:00:11.620000Z", OCT_11_2019_00_00_11 + 620_000_000),
        ("2019-10-11T00:00:11.620000", OCT_11_2019_00_00_11 + 620_000_000),
        ("2019-10-11 00:00:11Z", OCT_11_2019_00_00_11),
        ("2019-10-11T00:00:11.123456789Z", OCT_11_2019_00_00_11 + 123_456_789),
        ("2019-10-11T02:00:11.5+02:00", OCT_11_2019_00_00_11 + 500_000_000),
        ("1570752011", OCT_11_2019_00_00_11),
        ("1570752011620", OCT_11_2019_00_00_11 + 620_000_000),
        ("1570752011620123", OCT_11_2019_00_00_11 + 620_123_000),
        ("1570752011620123456", OCT_11_2019_00_00_11 + 620_123_456),
    ],
)
def test_timestamp_formats_parse_to_exact_ns(text: str, ns: int) -> None:
    times, bad = parse_timestamps([text, text])

    assert times.tolist() == [ns, ns]
    assert not bad.any()


def test_per_value_iso_parser_agrees_with_the_vectorised_one() -> None:
    column = ["1999-01-04", "2019-10-11T00:00:11.620000Z", "2019-10-11 00:00:11.123456789"]

    fast, _ = parse_timestamps(column)
    slow, bad = parse_timestamps([*column, "garbage"])  # one bad value forces the slow path

    assert slow[:3].tolist() == fast.tolist()
    assert bad.tolist() == [False, False, False, True]


@pytest.mark.parametrize(
    ("column", "expected_bad"),
    [
        (["2024-01-01", "now"], [False, True]),  # numpy alone would read "now" as the clock
        (["2024-01-01", "3000-01-01"], [False, True]),  # numpy alone would wrap silently
        (["2024-01-01", "2024-13-01"], [False, True]),
        (["2024-01-01", ""], [False, False]),  # empty: missing, not unparseable
        (["1704067200", "abc"], [False, True]),
        (["1704067200", ""], [False, False]),
        (["1704067200", "99999999999999999999"], [False, True]),
        (["1704067200", "9999999999"], [False, True]),  # seconds beyond 2262 overflow ns
    ],
)
def test_bad_timestamps_are_flagged_and_never_guessed(
    column: list[str], expected_bad: list[bool]
) -> None:
    times, bad = parse_timestamps(column)

    assert bad.tolist() == expected_bad
    assert times[0] == 1_704_067_200 * 10**9
    assert times[1] == TIME_MISSING


def test_epoch_unit_is_chosen_once_per_file_by_median() -> None:
    times, _ = parse_timestamps(["1704067200000", "1704067260000", "1704067200"])

    # milliseconds by the median; the odd value stays milliseconds (early 1970), not seconds
    assert times.tolist() == [1_704_067_200 * 10**9, 1_704_067_260 * 10**9, 1_704_067_200 * 10**6]


def test_parse_floats_tells_empty_from_unparseable() -> None:
    values, bad = parse_floats(["1.5", "", " 2 ", "abc", "1e-5"])

    assert values[[0, 2, 4]].tolist() == [1.5, 2.0, 1e-5]
    assert np.isnan(values[[1, 3]]).all()
    assert bad.tolist() == [False, False, False, True, False]


def test_load_csv_reads_columns_in_any_order_and_case(write_bars: WriteBars) -> None:
    path = write_bars(
        ["9,2024-01-02,12,x,11,10,100", "9,2024-01-03,13,y,12,11,200"],
        header="Low,Date,HIGH,note,Close,Open,Volume",
        name="ABC-USD.csv",
    )

    series = load_csv(path)

    assert series.symbol == "ABC-USD"
    assert series.time.tolist() == [
        1_704_153_600 * 10**9,
        1_704_240_000 * 10**9,
    ]
    assert series.open.tolist() == [10.0, 11.0]
    assert series.high.tolist() == [12.0, 13.0]
    assert series.low.tolist() == [9.0, 9.0]
    assert series.close.tolist() == [11.0, 12.0]
    assert series.volume.tolist() == [100.0, 200.0]
    assert series.source == str(path)


def test_symbol_argument_overrides_file_stem(write_bars: WriteBars, bar_line: BarLine) -> None:
    series = load_csv(write_bars([bar_line(1)]), symbol="SPX")

    assert series.symbol == "SPX"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"time": "garbage"}, RejectReason.UNPARSEABLE),
        ({"time": "now"}, RejectReason.UNPARSEABLE),
        ({"time": ""}, RejectReason.MISSING_VALUE),
        ({"o": "abc"}, RejectReason.UNPARSEABLE),
        ({"c": ""}, RejectReason.MISSING_VALUE),
        ({"v": "nan"}, RejectReason.MISSING_VALUE),
        ({"h": "inf"}, RejectReason.UNPARSEABLE),
        ({"low": "0"}, RejectReason.NON_POSITIVE_PRICE),
        ({"v": "-3"}, RejectReason.NEGATIVE_VOLUME),
        ({"time": "2024-01-01"}, RejectReason.DUPLICATE_TIMESTAMP),
        ({"time": "2023-12-31T23:59:59Z"}, RejectReason.OUT_OF_ORDER),
    ],
)
def test_bad_csv_rows_are_counted_with_their_line(
    write_bars: WriteBars, bar_line: BarLine, fields: dict[str, str], reason: RejectReason
) -> None:
    path = write_bars([bar_line(1), bar_line(2, **fields), bar_line(3)])

    series = load_csv(path)

    assert series.rejections is not None
    assert dict(series.rejections.counts) == {reason: 1}
    assert series.rejections.examples[0][:2] == (3, reason)
    assert len(series) == 2
    assert series.time[-1] == 1_704_067_200 * 10**9 + 2 * 86_400 * 10**9


@pytest.mark.parametrize("line", ["2024-01-02,10,12,9,11", "2024-01-02,10,12,9,11,100,7"])
def test_rows_with_wrong_field_count_are_unparseable(
    write_bars: WriteBars, bar_line: BarLine, line: str
) -> None:
    series = load_csv(write_bars([bar_line(1), line, bar_line(3)]))

    assert series.rejections is not None
    assert series.rejections.as_dict() == {"unparseable": 1}
    assert series.rejections.examples[0][0] == 3
    assert len(series) == 2


def test_quoted_fields_blank_lines_crlf_and_bom_are_read(write_text: WriteText) -> None:
    text = (
        "\ufefftimestamp,open,high,low,close,volume\r\n"
        '"2024-01-01","10","12","9","11","1,000"\r\n'
        "\r\n"
        '"2024-01-02","10","12","9","11.5","5"\r\n'
        "2024-01-02,10,12,9,11,5\r\n"
    )

    series = load_csv(write_text(text))

    assert series.time.tolist() == [1_704_153_600 * 10**9]
    assert series.close.tolist() == [11.5]
    assert series.rejections is not None
    # "1,000" is no number; the duplicate sits on physical line 5, after the blank line
    assert [example[:2] for example in series.rejections.examples] == [
        (2, RejectReason.UNPARSEABLE),
        (5, RejectReason.DUPLICATE_TIMESTAMP),
    ]


@pytest.mark.parametrize("quote", ["", '"'])
def test_line_numbers_count_leading_blank_lines(write_text: WriteText, quote: str) -> None:
    text = f"\n\ntimestamp,open,high,low,close,volume\n{quote}2024-01-01{quote},10,12,9,11,1\n"
    text += "2024-01-02,10,12,9,11,-1\n"

    series = load_csv(write_text(text))

    assert series.rejections is not None
    assert series.rejections.examples[0][:2] == (5, RejectReason.NEGATIVE_VOLUME)


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "nope" / "SPY.csv"

    with pytest.raises(DataFileNotFound, match=r"SPY\.csv") as info:
        load_csv(path)

    assert str(path) in str(info.value)


def test_missing_column_is_named_with_the_columns_found(
    write_bars: WriteBars,
) -> None:
    path = write_bars(["2024-01-01,10,12,9,11"], header="timestamp,open,high,low,close")

    with pytest.raises(DataError, match="missing required column 'volume'") as info:
        load_csv(path)

    assert "['timestamp', 'open', 'high', 'low', 'close']" in str(info.value)


def test_missing_timestamp_column_lists_accepted_aliases(write_bars: WriteBars) -> None:
    path = write_bars(["10,12,9,11,1"], header="open,high,low,close,volume")

    with pytest.raises(DataError, match="'timestamp' or 'time' or 'date' or 'datetime'"):
        load_csv(path)


def test_two_timestamp_columns_are_ambiguous(write_bars: WriteBars) -> None:
    path = write_bars(
        ["2024-01-01,10:00,10,12,9,11,1"], header="date,time,open,high,low,close,volume"
    )

    with pytest.raises(DataError, match="ambiguous timestamp columns"):
        load_csv(path)


@pytest.mark.parametrize("text", ["", "\n\n", "   \n"])
def test_empty_file_is_a_data_error(write_text: WriteText, text: str) -> None:
    with pytest.raises(DataError, match="file is empty"):
        load_csv(write_text(text))


def test_header_without_rows_is_a_data_error(write_text: WriteText) -> None:
    with pytest.raises(DataError, match="no data rows"):
        load_csv(write_text("timestamp,open,high,low,close,volume\n"))


def test_file_where_every_row_is_rejected_is_a_data_error(
    write_bars: WriteBars, bar_line: BarLine
) -> None:
    path = write_bars([bar_line(1, v=-1), bar_line(2, o=0)])

    with pytest.raises(DataError, match="all 2 rows were rejected") as info:
        load_csv(path)

    assert "negative_volume" in str(info.value)


def test_binary_file_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "blob.csv"
    path.write_bytes(b"timestamp,open\n\xff\xfe\x00")

    with pytest.raises(DataError, match="not UTF-8"):
        load_csv(path)


def test_directory_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read data file"):
        load_csv(tmp_path)
