"""Load OHLCV bars from Parquet files (needs the optional ``pyarrow`` dependency).

The columns are those of an OHLCV CSV file. The timestamp column may be an Arrow timestamp
(any unit, with or without a time zone: values are UTC instants either way), a date, an
integer epoch (unit chosen by magnitude, as for CSV) or an ISO 8601 string. Price and volume
columns may be any numeric type or decimal strings; nulls count as missing values. Rows are
numbered from 1 in rejection reports (Parquet has no header line).
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from papertape.engine.errors import DataError, DataFileNotFound
from papertape.engine.feeds.base import BarSeries
from papertape.engine.feeds.csv import epoch_to_ns, parse_floats, parse_timestamps
from papertape.engine.feeds.validate import (
    OHLCV_COLUMNS,
    ensure_rows,
    resolve_columns,
    validate_bars,
)

__all__ = ["load_parquet", "parquet_column_names"]

_UNIT_NS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
_NS_PER_DAY = 86_400 * 10**9

BoolArray = NDArray[np.bool_]


def _pyarrow() -> tuple[Any, Any]:
    """Import pyarrow lazily so that CSV-only installs never need it."""
    try:
        return importlib.import_module("pyarrow"), importlib.import_module("pyarrow.parquet")
    except ImportError as exc:
        raise DataError(
            "reading Parquet files needs pyarrow: pip install 'papertape[parquet]'"
        ) from exc


def _check_exists(file: Path) -> None:
    if not file.exists():
        raise DataFileNotFound(f"data file not found: {file}")


def parquet_column_names(path: str | os.PathLike[str]) -> list[str]:
    """Column names of a Parquet file, read from its schema only.

    Raises:
        DataFileNotFound: The file does not exist.
        DataError: pyarrow is missing or the file is not valid Parquet.
    """
    file = Path(path)
    _check_exists(file)
    pa, pq = _pyarrow()
    try:
        return list(pq.read_schema(file).names)
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"{file}: cannot read Parquet schema: {exc}") from exc


def load_parquet(path: str | os.PathLike[str], symbol: str | None = None) -> BarSeries:
    """Load and validate an OHLCV Parquet file.

    Args:
        path: The Parquet file.
        symbol: Symbol of the series; the file name without extension when omitted.

    Returns:
        The accepted bars; ``rejections`` counts the refused rows by reason.

    Raises:
        DataFileNotFound: The file does not exist.
        DataError: pyarrow is missing, the file is not Parquet, is empty, lacks a column,
            has a column of an unusable type, or every row was rejected.
    """
    file = Path(path)
    _check_exists(file)
    pa, pq = _pyarrow()
    try:
        table = pq.read_table(file)
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"{file}: cannot read Parquet: {exc}") from exc
    index = resolve_columns(table.column_names, OHLCV_COLUMNS, str(file))
    rows = table.num_rows
    if rows == 0:
        raise DataError(f"{file}: no data rows")
    names = table.column_names
    time, unparseable = _times(
        pa, table.column(index["timestamp"]), f"{file}: column {names[index['timestamp']]!r}"
    )
    prices: list[NDArray[np.float64]] = []
    for name in OHLCV_COLUMNS[1:]:
        values, bad = _floats(
            pa, table.column(index[name]), f"{file}: column {names[index[name]]!r}"
        )
        prices.append(values)
        unparseable |= bad
    open_, high, low, close, volume = prices
    series = validate_bars(
        symbol or file.stem,
        time,
        open_,
        high,
        low,
        close,
        volume,
        lines=np.arange(1, rows + 1, dtype=np.int64),
        unparseable=unparseable,
        source=str(file),
    )
    return ensure_rows(series, rows)


def _strings(pa: Any, column: Any) -> list[str]:
    return ["" if v is None else str(v) for v in column.cast(pa.string()).to_pylist()]


def _is_text(pa: Any, kind: Any) -> bool:
    types = pa.types
    return bool(types.is_string(kind) or types.is_large_string(kind) or types.is_string_view(kind))


def _times(pa: Any, column: Any, where: str) -> tuple[NDArray[np.int64], BoolArray]:
    kind = column.type
    if pa.types.is_dictionary(kind):
        column, kind = column.cast(kind.value_type), kind.value_type
    if _is_text(pa, kind):
        return parse_timestamps(_strings(pa, column))
    if pa.types.is_timestamp(kind):
        scale: int | None = _UNIT_NS[kind.unit]
    elif pa.types.is_date32(kind):
        column, scale = column.cast(pa.int32()), _NS_PER_DAY
    elif pa.types.is_date64(kind):
        scale = _UNIT_NS["ms"]
    elif pa.types.is_integer(kind):
        scale = None
    else:
        raise DataError(
            f"{where} has type {kind}; expected a timestamp, a date, integer epoch or ISO text"
        )
    present = column.is_valid().to_numpy(zero_copy_only=False).astype(bool)
    raw = column.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
    return epoch_to_ns(np.asarray(raw, dtype=np.int64), present, scale)


def _floats(pa: Any, column: Any, where: str) -> tuple[NDArray[np.float64], BoolArray]:
    kind = column.type
    if pa.types.is_dictionary(kind):
        column, kind = column.cast(kind.value_type), kind.value_type
    if _is_text(pa, kind):
        return parse_floats(_strings(pa, column))
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)):
        raise DataError(f"{where} has type {kind}; expected numbers")
    values = column.cast(pa.float64()).fill_null(float("nan")).to_numpy(zero_copy_only=False)
    return np.asarray(values, dtype=np.float64), np.zeros(len(values), dtype=bool)
