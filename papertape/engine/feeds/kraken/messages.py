"""Kraken WebSocket v2 messages as typed values (what :mod:`protocol` parses frames into).

Market channels give :class:`BookMessage`, :class:`TradeMessage`, :class:`OhlcMessage` and
:class:`TickerMessage`; control frames :class:`Heartbeat`, :class:`Status`, :class:`Ack` and
:class:`Pong`; a frame that cannot be used is a :class:`Rejected` with its
:class:`RejectReason`. Times are integer nanoseconds since the Unix epoch (UTC).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TypeAlias

__all__ = [
    "Ack",
    "BookData",
    "BookLevel",
    "BookMessage",
    "Candle",
    "Heartbeat",
    "Market",
    "Message",
    "OhlcMessage",
    "Pong",
    "RejectReason",
    "Rejected",
    "Status",
    "Ticker",
    "TickerMessage",
    "Trade",
    "TradeMessage",
]


class RejectReason(enum.StrEnum):
    """Why an incoming message (or part of one) was refused."""

    MALFORMED_JSON = "malformed_json"  # not JSON, or not a JSON object
    MALFORMED = "malformed"  # a field is missing, of the wrong type or out of range
    UNKNOWN_CHANNEL = "unknown_channel"
    UNKNOWN_METHOD = "unknown_method"
    UNKNOWN_TYPE = "unknown_type"  # neither "snapshot" nor "update"
    UNKNOWN_SYMBOL = "unknown_symbol"  # data for a symbol we did not subscribe
    OUT_OF_ORDER = "out_of_order"  # older than what was already applied
    DUPLICATE = "duplicate"  # a trade id already seen, outside a snapshot
    CHECKSUM_MISMATCH = "checksum_mismatch"  # the local book disagrees with Kraken's CRC32
    SUBSCRIBE_FAILED = "subscribe_failed"  # an error acknowledgement


@dataclass(frozen=True, slots=True)
class Rejected:
    """A message (or a part of one) that must not be used, and why."""

    reason: RejectReason
    detail: str
    channel: str = ""


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """``{"channel": "heartbeat"}``: the connection is alive (sent when otherwise idle)."""


@dataclass(frozen=True, slots=True)
class Status:
    """The ``status`` channel: exchange state (``online``, ``maintenance``, ...)."""

    system: str
    version: str
    connection_id: int | None


@dataclass(frozen=True, slots=True)
class Ack:
    """The answer to a ``subscribe``/``unsubscribe`` request (one per symbol on success)."""

    method: str
    success: bool
    channel: str
    symbol: str
    error: str
    req_id: int | None


@dataclass(frozen=True, slots=True)
class Pong:
    """The answer to an application-level ``ping``."""

    req_id: int | None


@dataclass(frozen=True, slots=True)
class BookLevel:
    """One price level; ``token`` is its checksum contribution (digits of price then qty)."""

    price: float
    qty: float
    price_text: str
    qty_text: str
    token: str


@dataclass(frozen=True, slots=True)
class BookData:
    """One symbol's part of a ``book`` message (levels in wire order)."""

    symbol: str
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    checksum: int
    time: int  # 0 when the message carries no timestamp


@dataclass(frozen=True, slots=True)
class Trade:
    """One print of the ``trade`` channel; ``side`` is +1 for a buy taker, -1 for a sell."""

    symbol: str
    side: int
    price: float
    qty: float
    trade_id: int
    time: int
    ord_type: str = "market"


@dataclass(frozen=True, slots=True)
class Candle:
    """One ``ohlc`` candle (complete or still forming); ``begin`` is the interval's start."""

    symbol: str
    begin: int
    interval_min: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    vwap: float
    trades: int


@dataclass(frozen=True, slots=True)
class Ticker:
    """Best bid/ask and last trade of the ``ticker`` channel."""

    symbol: str
    bid: float
    bid_qty: float
    ask: float
    ask_qty: float
    last: float
    volume: float
    time: int  # 0 when the message carries no timestamp


@dataclass(frozen=True, slots=True)
class BookMessage:
    """A ``book`` message: one :class:`BookData` per symbol, snapshot or update."""

    snapshot: bool
    items: tuple[BookData, ...]


@dataclass(frozen=True, slots=True)
class TradeMessage:
    """A ``trade`` message: prints in exchange order (a snapshot holds the last 50)."""

    snapshot: bool
    items: tuple[Trade, ...]


@dataclass(frozen=True, slots=True)
class OhlcMessage:
    """An ``ohlc`` message: candles (a snapshot holds recent history, oldest first)."""

    snapshot: bool
    items: tuple[Candle, ...]


@dataclass(frozen=True, slots=True)
class TickerMessage:
    """A ``ticker`` message."""

    snapshot: bool
    items: tuple[Ticker, ...]


Market: TypeAlias = BookMessage | TradeMessage | OhlcMessage | TickerMessage
Message: TypeAlias = Market | Heartbeat | Status | Ack | Pong | Rejected
