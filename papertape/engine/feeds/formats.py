"""Known CSV layouts without a header line, recognised by their first line and column count.

A file whose first line starts with a number or an ISO date has no header. papertape then
names its columns by their count, or says precisely why it cannot:

* 12 columns: a Binance kline (candlestick) export — ``open_time`` (epoch ms, or µs since
  2025), ``open``, ``high``, ``low``, ``close``, ``volume``, ``close_time``, ``quote_volume``,
  ``count``, ``taker_buy_volume``, ``taker_buy_quote_volume``, ``ignore``;
* 6 columns: ``timestamp, open, high, low, close, volume`` in that order;
* 7 columns: a Binance trades export — ``id, price, qty, quote_qty, time, is_buyer_maker,
  is_best_match`` (read as ``price``, ``amount`` and ``timestamp``);
* 8 columns: a Binance aggTrades export — ``agg_trade_id, price, qty, first_trade_id,
  last_trade_id, time, is_buyer_maker, is_best_match``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from papertape.engine.errors import DataError

__all__ = [
    "BINANCE_AGG_TRADE_COLUMNS",
    "BINANCE_KLINE_COLUMNS",
    "BINANCE_TRADE_COLUMNS",
    "HEADERLESS_LAYOUTS",
    "headerless_names",
]

BINANCE_KLINE_COLUMNS = (
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "close_time",
    "quote_volume",
    "count",
    "taker_buy_volume",
    "taker_buy_quote_volume",
    "ignore",
)
BINANCE_TRADE_COLUMNS = (
    "id",
    "price",
    "amount",
    "quote_amount",
    "timestamp",
    "is_buyer_maker",
    "is_best_match",
)
BINANCE_AGG_TRADE_COLUMNS = (
    "agg_trade_id",
    "price",
    "amount",
    "first_trade_id",
    "last_trade_id",
    "timestamp",
    "is_buyer_maker",
    "is_best_match",
)
HEADERLESS_LAYOUTS: dict[int, tuple[str, ...]] = {
    12: BINANCE_KLINE_COLUMNS,
    6: ("timestamp", "open", "high", "low", "close", "volume"),
    7: BINANCE_TRADE_COLUMNS,
    8: BINANCE_AGG_TRADE_COLUMNS,
}

# A header cell never looks like this; the first cell of a data row does.
_VALUE_RE = re.compile(r"\s*(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|\d{4}-\d\d-\d\d.*)\s*")


def headerless_names(first_line: Sequence[str], source: str) -> list[str] | None:
    """Column names for a file whose first line is data, or None when it is a header.

    Args:
        first_line: The fields of the file's first non-blank line.
        source: File name for error messages.

    Returns:
        None when the first line is a header; otherwise the layout's column names.

    Raises:
        DataError: The first line is data but its column count matches no known layout.
    """
    if not first_line or not _VALUE_RE.fullmatch(first_line[0]):
        return None
    layout = HEADERLESS_LAYOUTS.get(len(first_line))
    if layout is None:
        shown = ",".join(first_line)
        raise DataError(
            f"{source}: the first line has no column names ({shown[:80]!r}) and its "
            f"{len(first_line)} columns match no known header-less layout (12: Binance "
            "klines, 6: timestamp,open,high,low,close,volume, 7: Binance trades, "
            "8: Binance aggTrades); add a header line such as "
            "'timestamp,open,high,low,close,volume'"
        )
    return list(layout)
