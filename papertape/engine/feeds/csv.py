"""Load OHLCV bars from CSV files, and the text parsers other feeds share.

A file is read whole and split into columns of strings. When it has no quotes and every line
has as many fields as the header, the split is done by ``str.split`` on the whole text (fast);
otherwise the :mod:`csv` module reads it row by row and rows with the wrong number of fields
are marked unparseable. Columns are then converted by numpy in one call each, falling back to
a per-value parser only for columns where that call fails.

Timestamps are UTC and may be ISO 8601 (``1999-01-04``, ``2019-10-11T00:00:11.620000Z``,
offsets such as ``+02:00`` are converted) or integer epoch seconds, milliseconds, microseconds
or nanoseconds; the epoch unit is chosen once per file from the median magnitude, so a single
odd row cannot change how the others are read.
"""

from __future__ import annotations

import csv
import io
import os
import re
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from papertape.engine.errors import DataError, DataFileNotFound
from papertape.engine.feeds.base import BarSeries
from papertape.engine.feeds.validate import (
    OHLCV_COLUMNS,
    TIME_MISSING,
    ensure_rows,
    resolve_columns,
    validate_bars,
)

__all__ = [
    "TextTable",
    "epoch_to_ns",
    "load_csv",
    "parse_floats",
    "parse_timestamps",
    "read_bytes",
    "read_text_table",
]

BoolArray = NDArray[np.bool_]

# ISO dates whose year keeps a datetime64[ns] in range (numpy wraps silently outside it).
_SAFE_DATE = r"(?:1[7-9]\d\d|2[01]\d\d|22[0-5]\d|226[01])-\d\d-\d\d"
_SAFE_DATE_RE = re.compile(_SAFE_DATE)
_UNSAFE_LINE_RE = re.compile(rf"^(?!{_SAFE_DATE}|$)", re.MULTILINE)
_INTEGER_RE = re.compile(r"[+-]?\d+")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_INT64_MAX = 2**63 - 1
_NS_MIN = _EPOCH - timedelta(microseconds=_INT64_MAX // 1000)
_NS_MAX = _EPOCH + timedelta(microseconds=_INT64_MAX // 1000)


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


def read_text_table(path: Path) -> TextTable:
    """Split a comma-separated UTF-8 file into string columns.

    Raises:
        DataFileNotFound: The file does not exist.
        DataError: The file is unreadable, not UTF-8, empty or has a header only.
    """
    data = read_bytes(path)
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


def parse_timestamps(values: list[str]) -> tuple[NDArray[np.int64], BoolArray]:
    """Convert ISO 8601 or integer epoch strings to ns since the epoch (UTC).

    Returns:
        Times (:data:`TIME_MISSING` where empty or unparseable) and a mask of unparseable,
        non-empty fields.
    """
    first = next((text.strip() for text in values if text.strip()), "")
    if _INTEGER_RE.fullmatch(first):
        return _parse_epoch(values)
    return _parse_iso(values)


def _parse_epoch(values: list[str]) -> tuple[NDArray[np.int64], BoolArray]:
    n = len(values)
    present = np.ones(n, dtype=bool)
    bad = np.zeros(n, dtype=bool)
    try:
        raw = np.array(values, dtype=np.int64)
    except (ValueError, OverflowError):
        raw = np.zeros(n, dtype=np.int64)
        for i, text in enumerate(values):
            try:
                raw[i] = int(text)
            except (ValueError, OverflowError):
                present[i] = False
                bad[i] = bool(text.strip())
    ns, out_of_range = epoch_to_ns(raw, present)
    return ns, bad | out_of_range


def epoch_to_ns(
    raw: NDArray[np.int64], present: BoolArray, scale: int | None = None
) -> tuple[NDArray[np.int64], BoolArray]:
    """Scale integer epoch times to ns.

    Args:
        raw: Epoch integers (any value where ``present`` is false).
        present: Which entries hold a value.
        scale: Nanoseconds per unit of ``raw``; when omitted, seconds, milliseconds,
            microseconds or nanoseconds are chosen from the median magnitude (below 1e11,
            1e14, 1e17, else nanoseconds).

    Returns:
        Times in ns (:data:`TIME_MISSING` where absent or out of range) and a mask of values
        that do not fit a datetime64[ns].
    """
    if scale is None:
        magnitude = float(np.median(np.abs(raw[present]))) if present.any() else 0.0
        if magnitude < 1e11:  # seconds up to the year 5138
            scale = 10**9
        elif magnitude < 1e14:
            scale = 10**6
        elif magnitude < 1e17:
            scale = 10**3
        else:
            scale = 1
    limit = _INT64_MAX // scale
    out_of_range = present & ((raw >= limit) | (raw <= -limit))
    ok = present & ~out_of_range
    ns = np.full(len(raw), TIME_MISSING, dtype=np.int64)
    ns[ok] = raw[ok] * scale
    return ns, out_of_range


def _parse_iso(values: list[str]) -> tuple[NDArray[np.int64], BoolArray]:
    n = len(values)
    joined = "\n".join(values).replace("Z\n", "\n")
    joined = joined.removesuffix("Z")
    # Fast path only when every non-empty line starts with a date numpy cannot overflow;
    # anything else ("now", offsets, odd years) goes through the careful per-value parser.
    if not _UNSAFE_LINE_RE.search(joined):
        parts = joined.split("\n")
        if len(parts) == n:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("error")
                    parsed = np.array(parts, dtype="datetime64[ns]")
                return parsed.view(np.int64), np.zeros(n, dtype=bool)
            except (ValueError, Warning):
                pass
    out = np.empty(n, dtype=np.int64)
    bad = np.zeros(n, dtype=bool)
    for i, text in enumerate(values):
        try:
            out[i] = _iso_to_ns(text)
        except (ValueError, OverflowError):
            out[i] = TIME_MISSING
            bad[i] = True
    return out, bad


def _iso_to_ns(text: str) -> int:
    """Parse one ISO 8601 time; :data:`TIME_MISSING` for an empty field."""
    value = text.strip()
    if not value:
        return int(TIME_MISSING)
    naive = value[:-1] if value[-1] in "Zz" else value
    if _SAFE_DATE_RE.match(naive):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                return int(np.datetime64(naive, "ns").astype(np.int64))
        except (ValueError, Warning):
            pass  # e.g. a "+02:00" offset: datetime handles those below
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if not _NS_MIN <= moment <= _NS_MAX:
        raise ValueError(f"{value} is outside the datetime64[ns] range")
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 10**9 + delta.microseconds * 1_000


def load_csv(path: str | os.PathLike[str], symbol: str | None = None) -> BarSeries:
    """Load and validate an OHLCV CSV file.

    The header must name ``timestamp`` (or ``time``/``date``/``datetime``), ``open``, ``high``,
    ``low``, ``close`` and ``volume`` in any order and case; other columns are ignored.

    Args:
        path: The CSV file.
        symbol: Symbol of the series; the file name without extension when omitted.

    Returns:
        The accepted bars; ``rejections`` counts the refused rows by reason.

    Raises:
        DataFileNotFound: The file does not exist.
        DataError: The file is empty, lacks a column, or every row was rejected.
    """
    file = Path(path)
    table = read_text_table(file)
    index = resolve_columns(table.header, OHLCV_COLUMNS, str(file))
    time, unparseable = parse_timestamps(table.columns[index["timestamp"]])
    unparseable |= table.ragged
    prices: list[NDArray[np.float64]] = []
    for name in OHLCV_COLUMNS[1:]:
        values, bad = parse_floats(table.columns[index[name]])
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
        lines=table.lines,
        unparseable=unparseable,
        source=str(file),
    )
    return ensure_rows(series, len(table.lines))
