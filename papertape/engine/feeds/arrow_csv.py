"""The fast CSV reader: pyarrow's multithreaded parser, for clean rectangular files.

It gives exactly what the text reader in :mod:`~papertape.engine.feeds.csv` gives, or
declines (returns None) and lets that reader do the work. It declines when line numbers could
differ (blank or whitespace-only lines, a lone carriage return, a quoted line break), when rows are
ragged, when the header repeats a name, when a time column holds floats it could round
differently, and when the file is not UTF-8 or is empty (the text reader words those errors).

Price and volume columns are parsed as float64 by Arrow (correctly rounded, like Python's
``float``); a column with a value Arrow cannot read (``1_000``, ``abc``, a blank) is read again
as strings and converted by the text reader's :func:`~papertape.engine.feeds.csv.parse_floats`,
so each value is judged by one rule whichever reader runs. The time column is left to Arrow's
type inference: ISO 8601 timestamps and dates, integers (epochs, unit by magnitude) and floats
(``1.6e12``) are converted in numpy; anything else goes to the text reader's
:func:`~papertape.engine.feeds.timestamps.parse_timestamps`.
"""

from __future__ import annotations

import csv
import importlib
import mmap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from papertape.engine.feeds.formats import headerless_names
from papertape.engine.feeds.timestamps import (
    TIME_MISSING,
    epoch_to_ns,
    float_epoch_to_ns,
    parse_timestamps,
)
from papertape.engine.feeds.validate import resolve_columns

if TYPE_CHECKING:
    from papertape.engine.feeds.csv import ParsedColumns

__all__ = ["map_file", "read_columns_arrow"]

BoolArray = NDArray[np.bool_]

_UNIT_NS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
_NS_PER_DAY = 86_400 * 10**9
_EXACT_FLOAT = 2.0**53
_CHUNK = 1 << 20  # bytes scanned per numpy call: small temporaries, reused by the allocator


def _arrow() -> tuple[Any, Any] | None:
    try:
        return importlib.import_module("pyarrow"), importlib.import_module("pyarrow.csv")
    except ImportError:
        return None


def map_file(path: Path) -> mmap.mmap | None:
    """Memory-map a file read-only (no copy, no allocation), or None if it cannot be."""
    try:
        with path.open("rb") as handle:
            return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):  # missing, a folder, empty: the text reader says why
        return None


def read_columns_arrow(
    data: bytes | mmap.mmap, path: Path, required: Sequence[str]
) -> ParsedColumns | None:
    """Parse ``data`` (the contents of ``path``) with pyarrow, or None to use the text reader.

    Args:
        data: The file's bytes, or a memory map of it (see :func:`map_file`).
        path: The file, for messages.
        required: Canonical column names, ``timestamp`` first, then float columns.

    Raises:
        DataError: A required column is missing (the same message as the text reader's).
    """
    from papertape.engine.feeds.csv import ParsedColumns

    modules = _arrow()
    if modules is None:
        return None
    pa, pacsv = modules
    shape = _shape(data)
    if shape is None:
        return None
    header, line_count = shape
    names = headerless_names(header, str(path))
    headerless = names is not None
    if names is not None:
        header = names
    elif len(set(header)) != len(header):
        return None
    index = resolve_columns(header, required, str(path))
    wanted = [header[index[name]] for name in required]
    table = _read(pa, pacsv, data, header, headerless, wanted, typed=True)
    if table is None:
        table = _read(pa, pacsv, data, header, headerless, wanted, typed=False)
    if table is None:
        return None
    rows = table.num_rows
    if rows == 0 or rows != line_count - (0 if headerless else 1):
        return None
    first_line = 1 if headerless else 2
    times = _times(pa, table.column(0).combine_chunks())
    if times is None:
        return None
    time, unparseable = times
    values: dict[str, NDArray[np.float64]] = {}
    for i, name in enumerate(required[1:], start=1):
        values[name], bad = _floats(pa, table.column(i).combine_chunks())
        unparseable |= bad
    lines = np.arange(first_line, first_line + rows, dtype=np.int64)
    return ParsedColumns(time, values, unparseable, lines, "arrow")


def _shape(data: bytes | mmap.mmap) -> tuple[list[str], int] | None:
    """The first line's fields and the number of lines, or None for the text reader.

    Blank lines, lone carriage returns and quoted line breaks are not looked for here: each
    makes Arrow's row count differ from the line count, which the caller checks. The file is
    scanned in numpy chunks, so a memory map is never copied whole.
    """
    view = np.frombuffer(data, dtype=np.uint8)
    if not len(view):
        return None
    if int(view.max()) >= 0x80:
        try:
            bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            return None
    start = 3 if data[:3] == b"\xef\xbb\xbf" else 0
    end = len(view)
    while end > start and data[end - 1] in b" \t\r\n\x0b\x0c":
        end -= 1  # what str.rstrip() drops in the text reader
    if end == start or data[start] in b"\r\n":
        return None
    newline = data.find(b"\n", start, end)
    first = data[start : end if newline < 0 else newline].rstrip(b"\r").decode("utf-8")
    breaks = sum(
        int(np.count_nonzero(view[i : min(i + _CHUNK, end)] == 0x0A))
        for i in range(start, end, _CHUNK)
    )
    return next(csv.reader([first])), breaks + 1


def _read(
    pa: Any,
    pacsv: Any,
    data: bytes | mmap.mmap,
    header: list[str],
    headerless: bool,
    wanted: list[str],
    *,
    typed: bool,
) -> Any:
    value_type = pa.float64() if typed else pa.string()
    convert = pacsv.ConvertOptions(
        column_types={name: value_type for name in wanted[1:]},
        include_columns=wanted,
        null_values=[""],
        strings_can_be_null=False,
        quoted_strings_can_be_null=True,
    )
    if not typed:
        convert.column_types = {name: pa.string() for name in wanted}
    read = pacsv.ReadOptions(column_names=header, skip_rows=0 if headerless else 1)
    try:
        return pacsv.read_csv(pa.py_buffer(data), read_options=read, convert_options=convert)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None


def _times(pa: Any, column: Any) -> tuple[NDArray[np.int64], BoolArray] | None:
    kind = column.type
    types = pa.types
    if types.is_null(kind):
        n = len(column)
        return np.full(n, TIME_MISSING, dtype=np.int64), np.zeros(n, dtype=bool)
    if column.null_count:
        present = np.asarray(column.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    else:
        present = np.ones(len(column), dtype=bool)
    if types.is_timestamp(kind):
        return epoch_to_ns(_int64(pa, column.view(pa.int64())), present, _UNIT_NS[kind.unit])
    if types.is_date32(kind):
        return epoch_to_ns(_int64(pa, column.view(pa.int32())), present, _NS_PER_DAY)
    if types.is_int64(kind):
        return epoch_to_ns(_int64(pa, column), present, None)
    if types.is_float64(kind):
        filled = column.fill_null(0.0) if column.null_count else column
        values = _values(filled, np.dtype(np.float64))
        inexact = present & ~(np.abs(values) < _EXACT_FLOAT)  # also true for NaN and inf
        if inexact.any():
            return None  # digits beyond float64 or a first "NaN": the text reader decides
        return float_epoch_to_ns(values, present, None)
    strings = column.cast(pa.string()).fill_null("").to_pylist()
    return parse_timestamps(strings)


def _int64(pa: Any, column: Any) -> NDArray[np.int64]:
    """Integers of a column (0 where null), widened to int64."""
    if column.null_count:
        column = column.fill_null(0)
    width = np.int32 if column.type.bit_width == 32 else np.int64
    return _values(column, np.dtype(width)).astype(np.int64, copy=False)


def _values(column: Any, dtype: np.dtype[Any]) -> NDArray[Any]:
    """A null-free fixed-width Arrow array as a numpy view of its data buffer.

    ``Array.to_numpy`` would do the same, but it imports pandas and pyarrow.compute on first
    use (~0.9 s in a fresh process: more than the whole parse).
    """
    data = column.buffers()[1]
    return np.frombuffer(
        data, dtype=dtype, count=len(column), offset=column.offset * dtype.itemsize
    )


def _floats(pa: Any, column: Any) -> tuple[NDArray[np.float64], BoolArray]:
    from papertape.engine.feeds.csv import parse_floats

    if pa.types.is_string(column.type):
        try:
            column = column.cast(pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return parse_floats(column.to_pylist())
    if column.null_count:
        column = column.fill_null(np.nan)
    return _values(column, np.dtype(np.float64)), np.zeros(len(column), dtype=bool)
