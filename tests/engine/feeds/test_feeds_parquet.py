from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from papertape.engine.errors import DataError, DataFileNotFound
from papertape.engine.feeds.base import RejectReason
from papertape.engine.feeds.csv import load_csv
from papertape.engine.feeds.parquet import load_parquet, parquet_column_names

T0 = 1_704_067_200 * 10**9  # 2024-01-01T00:00:00Z
DAY = 86_400 * 10**9


def write_table(path: Path, columns: dict[str, Any], **options: Any) -> Path:
    pq.write_table(pa.table(columns), path, **options)
    return path


def prices(n: int) -> dict[str, Any]:
    return {
        "open": [10.0] * n,
        "high": [12.0] * n,
        "low": [9.0] * n,
        "close": [11.0] * n,
        "volume": [100.0] * n,
    }


def test_round_trip_of_shipped_csv_through_parquet(shipped_data: Path, tmp_path: Path) -> None:
    bars = load_csv(shipped_data / "sp500_daily.csv")
    stamps = pa.array(bars.time, pa.int64()).cast(pa.timestamp("ns", tz="UTC"))
    columns = {
        "timestamp": stamps,
        **{k: getattr(bars, k) for k in ("open", "high", "low", "close", "volume")},
    }
    path = write_table(tmp_path / "sp500.parquet", columns, row_group_size=1000)

    loaded = load_parquet(path, symbol="SPX")

    assert loaded.symbol == "SPX"
    assert len(loaded) == 5031
    for name in ("time", "open", "high", "low", "close", "volume"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(bars, name))
    assert loaded.rejections is not None
    assert loaded.rejections.total == 0


@pytest.mark.parametrize(
    "stamps",
    [
        pytest.param(pa.array([T0 // 10**6, (T0 + DAY) // 10**6], pa.int64()), id="epoch-ms"),
        pytest.param(pa.array([T0 // 10**9, (T0 + DAY) // 10**9], pa.int32()), id="epoch-s"),
        pytest.param(pa.array(["2024-01-01", "2024-01-02T00:00:00Z"]), id="iso-text"),
        pytest.param(pa.array(["2024-01-01", "2024-01-02"]).dictionary_encode(), id="dict-text"),
        pytest.param(pa.array([19723, 19724], pa.date32()), id="date32"),
        pytest.param(pa.array([T0 // 10**6, (T0 + DAY) // 10**6], pa.date64()), id="date64"),
        pytest.param(
            pa.array([T0 // 1000, (T0 + DAY) // 1000], pa.timestamp("us", tz="Asia/Tokyo")),
            id="timestamp-us-tz",
        ),
        pytest.param(pa.array([T0 // 10**9, (T0 + DAY) // 10**9], pa.timestamp("s")), id="ts-s"),
    ],
)
def test_timestamp_column_types(tmp_path: Path, stamps: Any) -> None:
    path = write_table(tmp_path / "t.parquet", {"Date": stamps, **prices(2)})

    assert load_parquet(path).time.tolist() == [T0, T0 + DAY]


def test_nulls_text_numbers_and_bad_text_are_validated(tmp_path: Path) -> None:
    columns = {
        "timestamp": pa.array([T0, T0 + DAY, None, T0 + 3 * DAY], pa.timestamp("ns")),
        "open": pa.array(["10", "10", "10", "abc"]),
        "high": pa.array([12, 12, 12, 12], pa.int16()),
        "low": pa.array([9.0, None, 9.0, 9.0], pa.float32()),
        "close": [11.0, 11.0, 11.0, 11.0],
        "volume": pa.array([1, 1, 1, 1], pa.decimal128(10, 2)),
    }
    path = write_table(tmp_path / "bad.pq", columns)

    series = load_parquet(path)

    assert series.time.tolist() == [T0]
    assert series.high.tolist() == [12.0]
    assert series.rejections is not None
    assert series.rejections.as_dict() == {"missing_value": 2, "unparseable": 1}
    assert [example[:2] for example in series.rejections.examples] == [
        (2, RejectReason.MISSING_VALUE),
        (3, RejectReason.MISSING_VALUE),
        (4, RejectReason.UNPARSEABLE),
    ]


def test_unusable_column_type_is_named(tmp_path: Path) -> None:
    path = write_table(tmp_path / "b.parquet", {"timestamp": [True], **prices(1)})

    with pytest.raises(DataError, match="column 'timestamp' has type bool"):
        load_parquet(path)


def test_missing_column_is_named(tmp_path: Path) -> None:
    columns = prices(1)
    del columns["volume"]
    path = write_table(tmp_path / "m.parquet", {"timestamp": [T0], **columns})

    with pytest.raises(DataError, match="missing required column 'volume'"):
        load_parquet(path)
    assert parquet_column_names(path) == ["timestamp", "open", "high", "low", "close"]


def test_empty_table_is_a_data_error(tmp_path: Path) -> None:
    path = write_table(tmp_path / "e.parquet", {"timestamp": pa.array([], pa.int64()), **prices(0)})

    with pytest.raises(DataError, match="no data rows"):
        load_parquet(path)


def test_missing_file_and_non_parquet_file(tmp_path: Path) -> None:
    text = tmp_path / "text.parquet"
    text.write_text("timestamp,open\n")

    with pytest.raises(DataFileNotFound, match=r"absent\.parquet"):
        load_parquet(tmp_path / "absent.parquet")
    with pytest.raises(DataError, match="cannot read Parquet"):
        load_parquet(text)


def test_missing_pyarrow_tells_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_table(tmp_path / "ok.parquet", {"timestamp": [T0], **prices(1)})
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)

    with pytest.raises(DataError, match=r"pip install 'papertape\[parquet\]'"):
        load_parquet(path)
