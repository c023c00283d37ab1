"""Load OHLCV bars from CSV files, and the text parsers other feeds share.

Two readers produce the same columns, line numbers and rejections:

* the **fast reader** (:mod:`~papertape.engine.feeds.arrow_csv`): pyarrow's multithreaded CSV
  reader, for the common case of a clean, rectangular file;
* the **text reader** here, for everything else (ragged rows, blank lines, quoted line
  breaks, small files before pyarrow is loaded, or no pyarrow at all): the file is split into
  columns of strings — by ``str.split`` when it has no quotes and every line has as many
  fields as the header, otherwise by the :mod:`csv` module row by row, rows with the wrong
  number of fields being unparseable. Columns are converted by numpy in one call each,
  falling back to a per-value parser only where that call fails.

A file whose first line is data rather than column names is read by its column count
(:mod:`~papertape.engine.feeds.formats`: Binance klines and trades). Times are parsed by
:mod:`~papertape.engine.feeds.timestamps` (ISO 8601, or epoch numbers whose unit is chosen
from their magnitude).
"""

from __future__ import annotations

import csv
import io
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from papertape.engine.errors import DataError, DataFileNotFound
from papertape.engine.feeds.base import BarSeries
from papertape.engine.feeds.cache import CacheSetting, cached_series
from papertape.engine.feeds.formats import headerless_names
from papertape.engine.feeds.timestamps import epoch_to_ns, parse_timestamps
from papertape.engine.feeds.validate import (
    OHLCV_COLUMNS,
    check_rejected_share,
    ensure_rows,
    resolve_columns,
    validate_bars,
)

__all__ = [
    "FAST_READER_MIN_BYTES",
    "CsvEngine",
    "ParsedColumns",
    "TextTable",
    "epoch_to_ns",
    "load_csv",
    "parse_floats",
    "parse_timestamps",
    "read_bytes",
    "read_columns",
    "read_text_table",
]

BoolArray = NDArray[np.bool_]
CsvEngine = Literal["auto", "arrow", "text"]
"""Which CSV reader to use: ``arrow`` (the fast reader, or the text reader where it declines),
``text``, or ``auto``: ``arrow`` once pyarrow is loaded or for files of at least
:data:`FAST_READER_MIN_BYTES`, ``text`` otherwise (importing pyarrow costs ~0.3 s, more than
the text reader needs for a few MB)."""

FAST_READER_MIN_BYTES = 4 << 20


@dataclass(frozen=True, slots=True)
class TextTable:
    """A delimited text file split into columns of raw strings.

    Attributes:
        header: Column names from the first line.
        columns: One list of field strings per header column.
        lines: 1-based line number of each data row (the header is line 1).
        ragged: True for rows whose field count differs from the header's.
    """

    header: list[str]
    columns: list[list[str]]
    lines: NDArray[np.int64]
    ragged: BoolArray


def read_bytes(path: Path) -> bytes:
    """Read a data file, translating OS errors into :class:`DataError`."""
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise DataFileNotFound(f"data file not found: {path}") from exc
    except OSError as exc:
        raise DataError(f"cannot read data file {path}: {exc.strerror or exc}") from exc


def read_text_table(path: Path, data: bytes | None = None) -> TextTable:
    """Split a comma-separated UTF-8 file into string columns.

    Args:
        path: The file (read unless ``data`` is given; named in messages).
        data: The file's bytes, when already read.

    Raises:
        DataFileNotFound: The file does not exist.
        DataError: The file is unreadable, not UTF-8, empty, has a header only, or has no
            header and matches no known header-less layout.
    """
    data = read_bytes(path) if data is None else data
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text (bad byte at offset {exc.start})") from exc
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    stripped = text.lstrip("\n")
    header_at = len(text) - len(stripped) + 1  # line number of the header
    text = stripped.rstrip()
    if not text:
        raise DataError(f"{path}: file is empty")
    header_line, _, body = text.partition("\n")
    header = next(csv.reader([header_line]))
    names = headerless_names(header, str(path))
    if names is not None:  # the first line is data: it is read with the rest
        header, body, header_at = names, text, header_at - 1
    width = len(header)
    if '"' not in body and _uniform_width(body, width):
        flat = body.replace("\n", ",").split(",") if body else []
        n = len(flat) // width
        lines = np.arange(header_at + 1, header_at + 1 + n, dtype=np.int64)
        columns = [flat[i::width] for i in range(width)]
        ragged = np.zeros(n, dtype=bool)
    else:
        columns, lines, ragged = _read_rows(body, width, header_at)
    if not len(lines):
        raise DataError(f"{path}: header {header} but no data rows")
    return TextTable(header, columns, lines, ragged)


def _uniform_width(body: str, width: int) -> bool:
    """Whether every line of ``body`` has exactly ``width`` comma-separated fields."""
    raw = np.frombuffer(body.encode(), dtype=np.uint8)
    ends = np.append(np.flatnonzero(raw == ord("\n")), len(raw))
    commas_before = np.searchsorted(np.flatnonzero(raw == ord(",")), ends)
    return bool(np.all(np.diff(commas_before, prepend=0) == width - 1))


def _read_rows(
    body: str, width: int, header_at: int
) -> tuple[list[list[str]], NDArray[np.int64], BoolArray]:
    reader = csv.reader(io.StringIO(body))
    rows: list[list[str]] = []
    lines: list[int] = []
    for row in reader:
        if not any(field.strip() for field in row):
            continue  # blank line
        rows.append(row)
        lines.append(header_at + reader.line_num)
    ragged = np.array([len(row) != width for row in rows], dtype=bool)
    padded = [row if len(row) == width else (row + [""] * width)[:width] for row in rows]
    columns = [[row[i] for row in padded] for i in range(width)]
    return columns, np.array(lines, dtype=np.int64), ragged


def parse_floats(values: list[str]) -> tuple[NDArray[np.float64], BoolArray]:
    """Convert decimal strings to float64.

    Returns:
        The values (NaN where empty or unparseable) and a mask of unparseable, non-empty fields.
    """
    n = len(values)
    try:
        return np.array(values, dtype=np.float64), np.zeros(n, dtype=bool)
    except ValueError:
        pass
    out = np.empty(n, dtype=np.float64)
    bad = np.zeros(n, dtype=bool)
    for i, text in enumerate(values):
        try:
            out[i] = float(text)
        except ValueError:
            out[i] = np.nan
            bad[i] = bool(text.strip())
    return out, bad


@dataclass(frozen=True, slots=True)
class ParsedColumns:
    """The columns a loader needs, parsed but not yet validated.

    Attributes:
        time: Times in ns since the epoch; :data:`~papertape.engine.feeds.timestamps.TIME_MISSING`
            where empty or unparseable.
        values: Float columns by canonical name (NaN where empty or unparseable).
        unparseable: Rows with a field that could not be read (or the wrong field count).
        lines: 1-based line number of each row in the file.
        reader: ``"arrow"`` or ``"text"``: which reader produced them.
    """

    time: NDArray[np.int64]
    values: dict[str, NDArray[np.float64]]
    unparseable: BoolArray
    lines: NDArray[np.int64]
    reader: str


def read_columns(
    path: Path, required: Sequence[str], *, engine: CsvEngine = "auto"
) -> ParsedColumns:
    """Read a CSV file's ``timestamp`` column and float columns ``required[1:]``.

    Args:
        path: The CSV file.
        required: Canonical column names, ``timestamp`` first.
        engine: ``"arrow"`` tries the fast reader first, ``"text"`` uses the text reader only,
            ``"auto"`` picks by file size (see :data:`CsvEngine`).

    Raises:
        DataFileNotFound: The file does not exist.
        DataError: The file is unreadable, not UTF-8, empty or lacks a column.
    """
    if engine == "auto":
        try:
            big = path.stat().st_size >= FAST_READER_MIN_BYTES
        except OSError:
            big = False  # the text reader words the error
        engine = "arrow" if big or "pyarrow.csv" in sys.modules else "text"
    if engine == "arrow":
        from papertape.engine.feeds.arrow_csv import map_file, read_columns_arrow

        mapped = map_file(path)
        fast = None if mapped is None else read_columns_arrow(mapped, path, required)
        if fast is not None:
            return fast
    table = read_text_table(path)
    index = resolve_columns(table.header, required, str(path))
    time, unparseable = parse_timestamps(table.columns[index["timestamp"]])
    unparseable |= table.ragged
    values: dict[str, NDArray[np.float64]] = {}
    for name in required[1:]:
        values[name], bad = parse_floats(table.columns[index[name]])
        unparseable |= bad
    return ParsedColumns(time, values, unparseable, table.lines, "text")


def load_csv(
    path: str | os.PathLike[str],
    symbol: str | None = None,
    *,
    engine: CsvEngine = "auto",
    cache: CacheSetting = None,
    max_rejected_share: float | None = None,
) -> BarSeries:
    """Load and validate an OHLCV CSV file.

    The header must name ``timestamp`` (or ``time``/``date``/``datetime``/``open_time``),
    ``open``, ``high``, ``low``, ``close`` and ``volume`` in any order and case; other columns
    are ignored. A file without a header is read by its column count (Binance klines).

    Args:
        path: The CSV file.
        symbol: Symbol of the series; the file name without extension when omitted.
        engine: CSV reader, ``"auto"``, ``"arrow"`` or ``"text"`` (see :data:`CsvEngine`).
        cache: Where validated loads are cached: None for the default (see
            :mod:`~papertape.engine.feeds.cache`), False for no cache, or a folder.
        max_rejected_share: Refuse the file when more than this share of its rows is
            rejected (None: no limit).

    Returns:
        The accepted bars; ``rejections`` counts the refused rows by reason.

    Raises:
        DataFileNotFound: The file does not exist.
        DataError: The file is empty, lacks a column, every row was rejected, or more than
            ``max_rejected_share`` of them.
    """
    file = Path(path)
    name = symbol or file.stem

    def parse_and_validate() -> BarSeries:
        parsed = read_columns(file, OHLCV_COLUMNS, engine=engine)
        v = parsed.values
        return validate_bars(
            name,
            parsed.time,
            v["open"],
            v["high"],
            v["low"],
            v["close"],
            v["volume"],
            lines=parsed.lines,
            unparseable=parsed.unparseable,
            source=str(file),
        )

    series = cached_series(file, "ohlcv", parse_and_validate, cache)
    if series.symbol != name:
        series = replace(series, symbol=name)
    series = ensure_rows(series)
    check_rejected_share(series, max_rejected_share)
    return series
