"""Vectorised validation of parsed market-data columns into a :class:`BarSeries`.

Parsers (CSV, Parquet, trades) turn a file into raw numpy columns and hand them here. Each row
is checked in a fixed order and, if it fails, counted under the *first* failing reason only:

1. ``UNPARSEABLE``: a field could not be parsed (the parser's ``unparseable`` mask, or ±inf);
2. ``MISSING_VALUE``: a price or volume is NaN, or the time is :data:`TIME_MISSING`;
3. ``NON_POSITIVE_PRICE``: open, high, low or close <= 0;
4. ``HIGH_BELOW_LOW``;
5. ``OUTSIDE_RANGE``: open or close outside [low, high];
6. ``NEGATIVE_VOLUME``;
7. ``DUPLICATE_TIMESTAMP`` / ``OUT_OF_ORDER``: time equal to / earlier than the last accepted row.

The time checks use a running maximum over the rows that passed checks 1-6: a row rejected for
its time is never later than the running maximum, so it never raises it, and the running maximum
before a row is exactly the time of the last accepted row.

Before any check, a file that is *entirely* in descending time order (every present time at or
before the one above it, and the last before the first: newest-first exports such as Alpha
Vantage's) is reversed, said in the log and in the report (``sorted_descending``); line numbers
stay those of the file. A file that is only partly out of order is not reordered: its late rows
are rejected, and :func:`check_rejected_share` lets a run refuse a file that loses too many.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from papertape.engine.errors import DataError
from papertape.engine.feeds.base import BarSeries, RejectionReport, RejectReason
from papertape.engine.feeds.timestamps import TIME_MISSING

__all__ = [
    "OHLCV_COLUMNS",
    "TIMESTAMP_ALIASES",
    "TIME_MISSING",
    "check_rejected_share",
    "ensure_rows",
    "resolve_columns",
    "validate_bars",
]

logger = logging.getLogger("papertape.feeds")

OHLCV_COLUMNS = ("timestamp", "open", "high", "low", "close", "volume")
TIMESTAMP_ALIASES = ("timestamp", "time", "date", "datetime", "open_time")

FloatArray = NDArray[np.float64]
_NAMES = OHLCV_COLUMNS[1:]


def resolve_columns(found: Sequence[str], required: Sequence[str], source: str) -> dict[str, int]:
    """Map each required column name to its index in a file's header.

    Names are matched case-insensitively after stripping blanks; ``timestamp`` may also be
    spelt ``time``, ``date``, ``datetime`` or ``open_time`` (Binance). Extra columns are ignored.

    Args:
        found: Column names as they appear in the file.
        required: Canonical names wanted (``timestamp``, ``open``, ...).
        source: File name used in error messages.

    Returns:
        Canonical name to column index.

    Raises:
        DataError: A required column is absent, or several columns could be the timestamp.
    """
    index = {name.strip().lower(): i for i, name in enumerate(found)}
    columns: dict[str, int] = {}
    for want in required:
        candidates = TIMESTAMP_ALIASES if want == "timestamp" else (want,)
        hits = [name for name in candidates if name in index]
        if not hits:
            spelt = " or ".join(repr(c) for c in candidates)
            raise DataError(
                f"{source}: missing required column {spelt}; columns found: {list(found)}"
            )
        if len(hits) > 1:
            raise DataError(f"{source}: ambiguous timestamp columns {hits}; keep only one")
        columns[want] = index[hits[0]]
    return columns


def validate_bars(
    symbol: str,
    time: NDArray[np.int64],
    open_: FloatArray,
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    volume: FloatArray,
    *,
    lines: NDArray[np.int64],
    unparseable: NDArray[np.bool_] | None = None,
    source: str = "",
    allow_equal_times: bool = False,
    report: RejectionReport | None = None,
    sort_descending: bool = True,
) -> BarSeries:
    """Check parsed rows and keep the valid ones.

    Args:
        symbol: Symbol of the resulting series.
        time: Bar open times in ns since the epoch (UTC); :data:`TIME_MISSING` for none.
        open_: Open prices, NaN where missing.
        high: High prices, NaN where missing.
        low: Low prices, NaN where missing.
        close: Close prices, NaN where missing.
        volume: Volumes, NaN where missing.
        lines: 1-based source line (or row) number of each row, for messages.
        unparseable: True where the parser could not read some field of the row.
        source: File name for the report and the log.
        allow_equal_times: Keep rows whose time equals the previous one (trade ticks).
        report: Report to fill; a new one is made when omitted.
        sort_descending: Reverse rows that are entirely in descending time order.

    Returns:
        The accepted rows, with ``rejections`` set to the filled report.
    """
    report = report if report is not None else RejectionReport(source)
    n = len(time)
    report.rows += n
    if sort_descending and _entirely_descending(time):
        time, lines = time[::-1], lines[::-1]
        open_, high, low, close, volume = (
            open_[::-1],
            high[::-1],
            low[::-1],
            close[::-1],
            volume[::-1],
        )
        unparseable = None if unparseable is None else unparseable[::-1]
        report.sorted_descending = True
        logger.warning(
            "%s: all %d rows were in descending time order; reversed to ascending",
            source or "<data>",
            n,
        )
    prices = (open_, high, low, close)
    bad_parse = np.zeros(n, dtype=bool) if unparseable is None else unparseable.copy()
    for col in (*prices, volume):
        bad_parse |= np.isinf(col)
    missing = time == TIME_MISSING
    for col in (*prices, volume):
        missing |= np.isnan(col)
    # Each row is charged to the first check it fails; later checks only count rows not yet
    # rejected (NaN compares False, so missing values never trip the comparisons anyway).
    checks: list[tuple[RejectReason, NDArray[np.bool_]]] = [
        (RejectReason.UNPARSEABLE, bad_parse),
        (RejectReason.MISSING_VALUE, missing),
        (RejectReason.NON_POSITIVE_PRICE, (open_ <= 0) | (high <= 0) | (low <= 0) | (close <= 0)),
        (RejectReason.HIGH_BELOW_LOW, high < low),
        (
            RejectReason.OUTSIDE_RANGE,
            (open_ < low) | (open_ > high) | (close < low) | (close > high),
        ),
        (RejectReason.NEGATIVE_VOLUME, volume < 0),
    ]
    rejected = np.zeros(n, dtype=bool)
    first_fail: dict[RejectReason, NDArray[np.intp]] = {}
    for reason, failed in checks:
        new = failed & ~rejected
        first_fail[reason] = np.flatnonzero(new)
        rejected |= new

    clean = not rejected.any()
    if clean and (n < 2 or bool(np.all(time[1:] > time[:-1]))):
        # The usual clean, strictly ascending file: nothing to reject, nothing to copy.
        _record(report, first_fail, lines, time, prices, volume, time, np.arange(0))
        keep = None
    else:
        candidates = np.arange(n) if clean else np.flatnonzero(~rejected)
        t = time[candidates]
        previous = np.empty_like(t)
        if len(t):
            previous[0] = TIME_MISSING
            np.maximum.accumulate(t[:-1], out=previous[1:])
        equal = t == previous
        if allow_equal_times:
            keep = candidates[t >= previous]
        else:
            first_fail[RejectReason.DUPLICATE_TIMESTAMP] = candidates[equal]
            keep = candidates[t > previous]
        first_fail[RejectReason.OUT_OF_ORDER] = candidates[t < previous]
        _record(report, first_fail, lines, time, prices, volume, previous, candidates)
    if report.total:
        _log_summary(report, n)
    if keep is not None:
        time, volume = time[keep], volume[keep]
        open_, high, low, close = open_[keep], high[keep], low[keep], close[keep]
    return BarSeries(
        symbol,
        np.ascontiguousarray(time),
        np.ascontiguousarray(open_),
        np.ascontiguousarray(high),
        np.ascontiguousarray(low),
        np.ascontiguousarray(close),
        np.ascontiguousarray(volume),
        source,
        report,
    )


def ensure_rows(series: BarSeries, rows: int | None = None) -> BarSeries:
    """Return ``series`` unless validation rejected all rows of its file.

    Args:
        series: A validated series.
        rows: Rows read from the file; the report's ``rows`` when omitted.

    Raises:
        DataError: No row was accepted; the message gives the counts by reason.
    """
    report = series.rejections
    if rows is None:
        rows = report.rows if report is not None else len(series)
    if len(series) or not rows:
        return series
    counts = report.as_dict() if report is not None else {}
    raise DataError(f"{series.source}: all {rows} rows were rejected: {counts}")


def check_rejected_share(series: BarSeries, max_share: float | None) -> BarSeries:
    """Return ``series`` unless validation rejected more than ``max_share`` of its rows.

    Args:
        series: A validated series whose report counts the rows read.
        max_share: Largest acceptable share of rejected rows (0.05 = 5 %); None for no limit.

    Raises:
        DataError: Too many rows were rejected; the message names the file, the counts by
            reason and the first rejected lines.
    """
    report = series.rejections
    if max_share is None or report is None or not report.rows:
        return series
    rejected = report.total
    if rejected <= max_share * report.rows:
        return series
    counts = ", ".join(f"{reason}={n}" for reason, n in report.as_dict().items())
    raise DataError(
        f"{report.source or series.symbol}: rejected {rejected} of {report.rows} rows "
        f"({rejected / report.rows:.1%}, more than the {max_share:.1%} allowed by "
        f"max_rejected_share; {counts}); first: {report.first_reasons()}; fix the file, or "
        "raise max_rejected_share in its [[data]] entry to run on the rows that remain"
    )


def _entirely_descending(time: NDArray[np.int64]) -> bool:
    """Whether the present times never increase and the last is before the first."""
    if len(time) < 2:
        return False
    first, last = time[0], time[-1]
    if first != TIME_MISSING and last != TIME_MISSING and last >= first:
        return False  # the usual ascending file costs two lookups
    present = time[time != TIME_MISSING]
    if len(present) < 2 or present[-1] >= present[0]:
        return False
    return bool(np.all(present[1:] <= present[:-1]))


def _record(
    report: RejectionReport,
    rows_by_reason: Mapping[RejectReason, NDArray[np.intp]],
    lines: NDArray[np.int64],
    time: NDArray[np.int64],
    prices: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
    volume: FloatArray,
    previous: NDArray[np.int64],
    candidates: NDArray[np.intp],
) -> None:
    """Add bulk counts to ``report`` and examples for the earliest rejected rows."""
    room = report.max_examples - len(report.examples)
    firsts: list[tuple[int, RejectReason]] = []
    for reason, rows in rows_by_reason.items():
        if len(rows):
            report.counts[reason] += len(rows)
            firsts.extend((int(r), reason) for r in rows[: max(room, 0)])
    open_, high, low, close = prices
    columns = (*prices, volume)
    for row, reason in sorted(firsts)[: max(room, 0)]:
        if reason in (RejectReason.DUPLICATE_TIMESTAMP, RejectReason.OUT_OF_ORDER):
            last = previous[np.searchsorted(candidates, row)]
            detail = f"time {_iso(time[row])}, last accepted {_iso(last)}"
        elif reason is RejectReason.HIGH_BELOW_LOW:
            detail = f"high {high[row]:g} < low {low[row]:g}"
        elif reason is RejectReason.OUTSIDE_RANGE:
            detail = (
                f"open {open_[row]:g} / close {close[row]:g} outside [{low[row]:g}, {high[row]:g}]"
            )
        elif reason is RejectReason.NEGATIVE_VOLUME:
            detail = f"volume {volume[row]:g}"
        elif reason is RejectReason.NON_POSITIVE_PRICE:
            detail = f"o/h/l/c {open_[row]:g}/{high[row]:g}/{low[row]:g}/{close[row]:g}"
        elif reason is RejectReason.MISSING_VALUE:
            empty = ["time"] if time[row] == TIME_MISSING else []
            empty += [name for name, col in zip(_NAMES, columns, strict=True) if np.isnan(col[row])]
            detail = "empty or NaN: " + ", ".join(empty)
        else:
            detail = "a field could not be read as a number or a time"
        report.examples.append((int(lines[row]), reason, detail))


def _iso(ns: np.int64) -> str:
    return str(np.datetime64(int(ns), "ns"))


def _log_summary(report: RejectionReport, rows: int) -> None:
    counts = ", ".join(f"{reason}={n}" for reason, n in report.as_dict().items())
    message = f"{report.source or '<data>'}: rejected {report.total} of {rows} rows ({counts})"
    if report.examples:
        line, reason, detail = report.examples[0]
        message += f"; first at line {line}: {reason}" + (f" ({detail})" if detail else "")
    logger.warning(message)


def log_summary(report: RejectionReport) -> None:
    """Log what loading did, as on a fresh load (used when a load comes from the cache)."""
    if report.sorted_descending:
        logger.warning(
            "%s: all %d rows were in descending time order; reversed to ascending",
            report.source or "<data>",
            report.rows,
        )
    if report.total:
        _log_summary(report, report.rows)
