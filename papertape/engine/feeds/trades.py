"""Load individual trades from CSV, as ticks or aggregated into OHLCV bars.

A trades file has the header ``timestamp,id,side,price,amount`` (``id`` and ``side`` are
optional and ignored). Several trades often share a timestamp, so trades are validated with
equal times allowed: only unparseable or missing fields, non-positive prices, negative amounts
and times earlier than the previous trade are rejected.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path

import numpy as np

from papertape.engine.errors import DataError
from papertape.engine.feeds.base import NS_PER_SECOND, BarSeries
from papertape.engine.feeds.cache import CacheSetting, cached_series
from papertape.engine.feeds.csv import CsvEngine, read_columns
from papertape.engine.feeds.validate import check_rejected_share, ensure_rows, validate_bars

__all__ = ["TRADE_COLUMNS", "load_trades_csv", "parse_timeframe", "resample_bars"]

TRADE_COLUMNS = ("timestamp", "price", "amount")

_UNIT_NS = {
    "s": NS_PER_SECOND,
    "m": 60 * NS_PER_SECOND,
    "h": 3_600 * NS_PER_SECOND,
    "d": 86_400 * NS_PER_SECOND,
}
_TIMEFRAME_RE = re.compile(r"\s*(\d+)\s*([smhd])\s*")


def parse_timeframe(text: str) -> int:
    """Convert a timeframe such as ``"30s"``, ``"5m"``, ``"1h"`` or ``"1d"`` to nanoseconds.

    Units are ``s``, ``m`` (minutes), ``h`` and ``d``, lower case: ``1M`` would be ambiguous
    between a minute and a month.

    Raises:
        DataError: ``text`` is not a positive whole number followed by one of those units.
    """
    match = _TIMEFRAME_RE.fullmatch(text)
    if match is None or int(match.group(1)) == 0:
        raise DataError(
            f"invalid timeframe {text!r}: expected a positive whole number and a unit "
            "s, m, h or d, e.g. '30s', '5m', '1h', '1d'"
        )
    return int(match.group(1)) * _UNIT_NS[match.group(2)]


def resample_bars(series: BarSeries, timeframe: str | int) -> BarSeries:
    """Aggregate ticks or bars into bars of a coarser, epoch-aligned timeframe.

    Each bar opens at a multiple of the timeframe since the Unix epoch (so ``1d`` bars open
    at 00:00 UTC). Its open is the first row's open, its close the last row's close, its
    high/low the extremes and its volume the sum; buckets without rows give no bar.

    Args:
        series: Validated rows, in non-decreasing time order.
        timeframe: A string for :func:`parse_timeframe`, or nanoseconds.

    Returns:
        The aggregated bars, sharing ``series``' rejection report.
    """
    step = parse_timeframe(timeframe) if isinstance(timeframe, str) else int(timeframe)
    if step <= 0:
        raise DataError(f"invalid timeframe {timeframe!r}: must be positive")
    if not len(series):
        return series
    bucket = series.time // step * step
    starts = np.flatnonzero(np.diff(bucket, prepend=bucket[0] - 1))
    ends = np.append(starts[1:], len(bucket)) - 1
    return BarSeries(
        series.symbol,
        bucket[starts],
        series.open[starts],
        np.maximum.reduceat(series.high, starts),
        np.minimum.reduceat(series.low, starts),
        series.close[ends],
        np.add.reduceat(series.volume, starts),
        series.source,
        series.rejections,
    )


def load_trades_csv(
    path: str | os.PathLike[str],
    symbol: str | None = None,
    timeframe: str | None = None,
    *,
    engine: CsvEngine = "auto",
    cache: CacheSetting = None,
    max_rejected_share: float | None = None,
) -> BarSeries:
    """Load and validate a trades CSV file.

    Args:
        path: The CSV file (``timestamp,id,side,price,amount``, or a header-less Binance
            trades / aggTrades export).
        symbol: Symbol of the series; the file name without extension when omitted.
        timeframe: Aggregate into bars of this size (``"1m"``, ``"1h"``...); one tick per
            trade (open = high = low = close = price, volume = amount) when omitted.
        engine: CSV reader, ``"auto"``, ``"arrow"`` or ``"text"`` (see
            :data:`~papertape.engine.feeds.csv.CsvEngine`).
        cache: Load cache setting (see :mod:`~papertape.engine.feeds.cache`).
        max_rejected_share: Refuse the file when more than this share of its trades is
            rejected (None: no limit).

    Returns:
        Ticks or bars; ``rejections`` counts the refused trades by reason.

    Raises:
        DataFileNotFound: The file does not exist.
        DataError: The file is empty, lacks a column, every trade (or more than
            ``max_rejected_share`` of them) was rejected, or the timeframe is invalid.
    """
    step = parse_timeframe(timeframe) if timeframe is not None else None
    file = Path(path)
    name = symbol or file.stem

    def parse_and_validate() -> BarSeries:
        parsed = read_columns(file, TRADE_COLUMNS, engine=engine)
        price, amount = parsed.values["price"], parsed.values["amount"]
        return validate_bars(
            name,
            parsed.time,
            price,
            price,
            price,
            price,
            amount,
            lines=parsed.lines,
            unparseable=parsed.unparseable,
            source=str(file),
            allow_equal_times=True,
        )

    ticks = cached_series(file, "trades", parse_and_validate, cache)
    if ticks.symbol != name:
        ticks = replace(ticks, symbol=name)
    ensure_rows(ticks)
    check_rejected_share(ticks, max_rejected_share)
    return ticks if step is None else resample_bars(ticks, step)
