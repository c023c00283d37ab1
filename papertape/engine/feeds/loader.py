"""One entry point for historical data: pick the reader from the file's extension and header.

``.csv`` files are read as OHLCV bars or as trades depending on their columns; ``.parquet``
and ``.pq`` files as OHLCV bars. This is what the engine and the CLI call.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from papertape.engine.errors import DataError, DataFileNotFound
from papertape.engine.feeds.base import BarSeries
from papertape.engine.feeds.cache import CacheSetting
from papertape.engine.feeds.csv import CsvEngine, load_csv
from papertape.engine.feeds.formats import headerless_names
from papertape.engine.feeds.parquet import load_parquet, parquet_column_names
from papertape.engine.feeds.trades import load_trades_csv, parse_timeframe, resample_bars
from papertape.engine.feeds.validate import check_rejected_share

__all__ = ["DataKind", "detect_kind", "load_bars"]

DataKind = Literal["auto", "ohlcv", "trades"]

_CSV_SUFFIXES = (".csv",)
_PARQUET_SUFFIXES = (".parquet", ".pq")


def detect_kind(columns: Sequence[str], source: str = "") -> Literal["ohlcv", "trades"]:
    """Tell OHLCV bars from trades by their column names (case-insensitive).

    Raises:
        DataError: The columns fit neither layout.
    """
    names = {name.strip().lower() for name in columns}
    if {"open", "high", "low", "close"} <= names:
        return "ohlcv"
    if {"price", "amount"} <= names:
        return "trades"
    raise DataError(
        f"{source}: cannot tell OHLCV bars (open, high, low, close, volume) from trades "
        f"(price, amount) by the columns found: {list(columns)}"
    )


def _csv_header(file: Path) -> list[str]:
    """The column names of a CSV file: its header, or those of its header-less layout."""
    try:
        with file.open(newline="", encoding="utf-8-sig") as handle:
            for row in csv.reader(handle):
                if any(field.strip() for field in row):
                    return headerless_names(row, str(file)) or row
    except FileNotFoundError as exc:
        raise DataFileNotFound(f"data file not found: {file}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read data file {file}: {exc}") from exc
    raise DataError(f"{file}: file is empty")


def load_bars(
    path: str | os.PathLike[str],
    symbol: str | None = None,
    kind: DataKind = "auto",
    timeframe: str | None = None,
    *,
    cache: CacheSetting = None,
    max_rejected_share: float | None = None,
    engine: CsvEngine = "auto",
) -> BarSeries:
    """Load a historical data file as a validated bar series.

    Args:
        path: A ``.csv``, ``.parquet`` or ``.pq`` file.
        symbol: Symbol of the series; the file name without extension when omitted.
        kind: ``"ohlcv"``, ``"trades"`` or ``"auto"`` (decided from the columns).
        timeframe: Aggregate into bars of this size (``"5m"``, ``"1h"``, ``"1d"``). Trades
            are otherwise one tick each; bars can only be made coarser.
        cache: Load cache for CSV files: None for the default folder (files of 1 MiB or
            more), False for none, or a folder (see :mod:`~papertape.engine.feeds.cache`).
        max_rejected_share: Refuse a file when validation rejects more than this share of
            its rows (``0.05`` = 5 %); None for no limit. Runs pass ``[[data]]
            max_rejected_share`` (default 5 %).
        engine: CSV reader: ``"auto"`` (the fast pyarrow reader for files of 4 MiB or more,
            or once pyarrow is loaded), ``"arrow"`` or ``"text"``.

    Returns:
        The accepted bars; ``rejections`` counts the refused rows by reason.

    Raises:
        DataFileNotFound: The file does not exist.
        DataError: The extension, columns, contents or timeframe are unusable.
    """
    file = Path(path)
    suffix = file.suffix.lower()
    step = parse_timeframe(timeframe) if timeframe is not None else None
    if kind not in ("auto", "ohlcv", "trades"):
        raise DataError(f"unknown data kind {kind!r}: expected 'auto', 'ohlcv' or 'trades'")
    if suffix in _CSV_SUFFIXES:
        found = detect_kind(_csv_header(file), str(file)) if kind == "auto" else kind
        share = max_rejected_share
        if found == "trades":
            return load_trades_csv(
                file, symbol, timeframe, engine=engine, cache=cache, max_rejected_share=share
            )
        series = load_csv(file, symbol, engine=engine, cache=cache, max_rejected_share=share)
    elif suffix in _PARQUET_SUFFIXES:
        found = detect_kind(parquet_column_names(file), str(file)) if kind == "auto" else kind
        if found == "trades":
            raise DataError(f"{file}: trades in Parquet files are not supported; use CSV")
        series = check_rejected_share(load_parquet(file, symbol), max_rejected_share)
    else:
        if not file.exists():
            raise DataFileNotFound(f"data file not found: {file}")
        supported = ", ".join(_CSV_SUFFIXES + _PARQUET_SUFFIXES)
        raise DataError(f"{file}: unsupported file type {suffix!r}; expected {supported}")
    if step is None:
        return series
    if step < series.interval_ns:
        raise DataError(
            f"{file}: cannot resample bars spaced {series.interval_ns // 10**9}s "
            f"into finer {timeframe!r} bars"
        )
    return resample_bars(series, step)
