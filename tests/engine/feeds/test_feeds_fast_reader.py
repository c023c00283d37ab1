"""The pyarrow reader gives what the text reader gives, or hands the file over to it."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from papertape.engine.feeds import csv as csv_module
from papertape.engine.feeds.base import BarSeries
from papertape.engine.feeds.csv import load_csv, read_columns
from papertape.engine.feeds.trades import load_trades_csv
from papertape.engine.feeds.validate import OHLCV_COLUMNS

WriteText = Callable[..., Path]
HEADER = "timestamp,open,high,low,close,volume\n"


def _compare(path: Path, loader: Callable[..., BarSeries] = load_csv) -> None:
    """Both readers give the same series, or the same error."""
    try:
        fast = loader(path, engine="arrow", cache=False)
    except Exception as exc:
        with pytest.raises(type(exc)) as caught:
            loader(path, engine="text", cache=False)
        assert str(caught.value) == str(exc)
        return
    _assert_same(fast, loader(path, engine="text", cache=False))


def _assert_same(fast: BarSeries, text: BarSeries) -> None:
    for name in ("time", "open", "high", "low", "close", "volume"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(text, name), err_msg=name)
    assert fast.rejections is not None and text.rejections is not None
    assert fast.rejections.to_json() == text.rejections.to_json()


def test_clean_file_is_read_by_arrow_with_the_text_readers_result(write_text: WriteText) -> None:
    text = HEADER + "".join(
        f"2024-01-01T00:{m:02d}:00Z,10,12,9,{10 + m / 100},{m}\n" for m in range(60)
    )
    path = write_text(text)

    assert read_columns(path, OHLCV_COLUMNS, engine="arrow").reader == "arrow"
    _assert_same(
        load_csv(path, engine="arrow", cache=False), load_csv(path, engine="text", cache=False)
    )


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(HEADER + "2024-01-01,1,2,1,1,1\n\n2024-01-02,1,2,1,1,1\n", id="blank-line"),
        pytest.param(HEADER + "2024-01-01,1,2,1,1,1\n   \n2024-01-02,1,2,1,1,1\n", id="spaces"),
        pytest.param(HEADER + "2024-01-01,1,2,1,1\n2024-01-02,1,2,1,1,1\n", id="ragged"),
        pytest.param(HEADER + '2024-01-01,1,2,1,1,"1\n0"\n2024-01-02,1,2,1,1,1\n', id="quoted-nl"),
        pytest.param("\n" + HEADER + "2024-01-01,1,2,1,1,1\n", id="leading-blank"),
        pytest.param(HEADER + "2024-01-01,1,2,1,1,1\r2024-01-02,1,2,1,1,1\r", id="cr-only"),
        pytest.param(HEADER.replace("volume", "open") + "2024-01-01,1,2,1,1,1\n", id="dup-name"),
    ],
)
def test_files_whose_line_numbers_could_differ_go_to_the_text_reader(
    write_text: WriteText, text: str
) -> None:
    path = write_text(text)

    try:
        parsed = read_columns(path, OHLCV_COLUMNS, engine="arrow")
    except Exception as exc:  # the text reader's own verdict, e.g. a missing column
        with pytest.raises(type(exc)):
            read_columns(path, OHLCV_COLUMNS, engine="text")
        return
    assert parsed.reader == "text"


@pytest.mark.parametrize(
    "values",
    [
        ["1_000", "2"],  # Python reads it, Arrow does not
        [" 2.5", "2"],
        ["abc", "2"],
        ["", "2"],
        ["NaN", "2"],
        ["inf", "2"],
        ["1e400", "2"],
        ["0x10", "2"],
        ['"3"', "2"],
        ["+2", "2"],
    ],
)
def test_odd_volume_values_are_judged_alike(write_text: WriteText, values: list[str]) -> None:
    rows = "".join(f"2024-01-0{i + 1},10,12,9,11,{v}\n" for i, v in enumerate(values))

    _compare(write_text(HEADER + rows))


@pytest.mark.parametrize(
    "stamps",
    [
        ["2024-01-01", "2024-01-02"],
        ["2024-01-01T00:00:00Z", "2024-01-01T00:00:00.5Z"],
        ["2024-01-01T02:00:00+02:00", "2024-01-01T01:00:00Z"],
        ["2024-01-01 00:00:00", "2024-01-01 00:01:00"],
        ["2024-01-01T00:00:00Z", "2024-01-01T00:00:01"],  # mixed: Arrow gives strings
        ["3000-01-01", "2024-01-01"],  # out of datetime64[ns] range
        ["2024-02-30", "2024-03-01"],
        ["1704067200", "1704067260"],
        ["1704067200000", "99999999999999999999"],  # too big for int64
        ["1.7e12", "1.7000006e12"],
        ["1.7e12", "nan"],
        ["NaN", "1.7e12"],
        ["", "2024-01-01"],
        ["now", "2024-01-01"],
    ],
)
def test_time_formats_are_read_alike(write_text: WriteText, stamps: list[str]) -> None:
    rows = "".join(f"{t},10,12,9,11,1\n" for t in stamps)

    _compare(write_text(HEADER + rows))


def test_trades_are_read_alike(write_text: WriteText) -> None:
    text = "timestamp,id,side,price,amount\n" + "".join(
        f"2024-01-01T00:00:0{i // 2}Z,{i},buy,{100 + i},{'x' if i == 3 else 0.5}\n"
        for i in range(8)
    )

    _compare(write_text(text), load_trades_csv)


TIME = st.sampled_from(
    ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-02T12:00:00Z", "", "bad", "2024-13-01"]
)
EPOCH = st.sampled_from(["1704067200", "1704153600", "1704240000", "", "x", "1.7041536e9"])
PRICE = st.sampled_from(["10", "11", "12", "9.5", "", "-1", "0", "nan", "inf", "abc", "1_0"])
ROW = st.tuples(PRICE, PRICE, PRICE, PRICE, st.sampled_from(["1", "0", "-3", "", "v"]))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    times=st.lists(st.one_of(TIME, EPOCH), min_size=1, max_size=12),
    rows=st.lists(ROW, min_size=12, max_size=12),
    valid=st.lists(st.booleans(), min_size=12, max_size=12),
)
def test_random_dirty_files_load_alike(
    tmp_path: Path, times: list[str], rows: list[tuple[str, ...]], valid: list[bool]
) -> None:
    lines = []
    for i, stamp in enumerate(times):
        fields = ("10", "12", "9", "11", "5") if valid[i] else rows[i]
        lines.append(",".join((stamp, *fields)))
    path = tmp_path / "DIRTY.csv"
    path.write_text(HEADER + "\n".join(lines) + "\n")

    _compare(path)


def test_auto_reads_small_files_without_importing_pyarrow(
    write_text: WriteText, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_text(HEADER + "2024-01-01,10,12,9,11,1\n")
    monkeypatch.delitem(sys.modules, "pyarrow.csv", raising=False)

    assert read_columns(path, OHLCV_COLUMNS).reader == "text"
    assert "pyarrow.csv" not in sys.modules

    monkeypatch.setattr(csv_module, "FAST_READER_MIN_BYTES", 0)
    assert read_columns(path, OHLCV_COLUMNS).reader == "arrow"


@pytest.mark.parametrize(
    ("late_time", "late_close"),
    [("2024-03-01", "11"), ("1704067200.5", "11"), ("1704067200", "n/a")],
)
def test_a_surprise_after_arrows_first_block_is_read_alike(
    write_text: WriteText, late_time: str, late_close: str
) -> None:
    # Arrow infers column types from its first 1 MB block; a later value that does not fit
    # them makes it read the file again as text columns.
    rows = [f"{1_600_000_000 + 60 * i},10,12,9,11,1" for i in range(50_000)]
    rows.append(f"{late_time},10,12,9,{late_close},1")
    path = write_text(HEADER + "\n".join(rows) + "\n")
    assert path.stat().st_size > 1 << 20

    parsed = read_columns(path, OHLCV_COLUMNS, engine="arrow")

    assert parsed.reader == "arrow"
    _compare(path)
