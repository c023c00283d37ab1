"""Market-data feeds: validated historical files (CSV, Parquet, trades) and merged replay order."""

from papertape.engine.feeds.base import (
    BarSeries,
    EventOrder,
    RejectionReport,
    RejectReason,
    merge_series,
)
from papertape.engine.feeds.csv import load_csv
from papertape.engine.feeds.loader import load_bars
from papertape.engine.feeds.parquet import load_parquet
from papertape.engine.feeds.trades import load_trades_csv, parse_timeframe, resample_bars

__all__ = [
    "BarSeries",
    "EventOrder",
    "RejectReason",
    "RejectionReport",
    "load_bars",
    "load_csv",
    "load_parquet",
    "load_trades_csv",
    "merge_series",
    "parse_timeframe",
    "resample_bars",
]
