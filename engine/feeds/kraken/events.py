"""Events of a live market-data feed, journaled through ``Engine.emit`` like every other event.

They extend the engine's event stream (:mod:`engine.events`) with the feed's health: connection
changes, staleness, gaps, refused messages and order-book resynchronisations. ``time`` is the
latest market time the feed has seen (ns), never the wall clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from engine.events import Event

__all__ = [
    "BookResynced",
    "FeedConnected",
    "FeedDisconnected",
    "FeedFresh",
    "FeedGap",
    "FeedStale",
    "FeedSummary",
    "MessageRejected",
]


@dataclass(frozen=True, slots=True)
class FeedConnected(Event):
    """Every subscription of a (re)connection delivered its snapshot; data flows again."""

    kind: ClassVar[str] = "feed_connected"
    url: str
    connection: int  # 1 for the first connection, 2 after the first reconnect, ...
    backfilled_bars: int  # closed candles recovered from the snapshots of this connection


@dataclass(frozen=True, slots=True)
class FeedDisconnected(Event):
    """The connection was lost (or could not be opened); the feed reconnects after ``delay_s``.

    ``attempt`` numbers the retries in a row: 1 after a working connection was lost, 2 after
    that retry failed too, and so on (the backoff doubles with it).
    """

    kind: ClassVar[str] = "feed_disconnected"
    url: str
    reason: str
    attempt: int
    delay_s: float


@dataclass(frozen=True, slots=True)
class FeedStale(Event):
    """A symbol's data can no longer be trusted as current; orders are vetoed until fresh."""

    kind: ClassVar[str] = "feed_stale"
    symbol: str
    reason: str


@dataclass(frozen=True, slots=True)
class FeedFresh(Event):
    """A symbol's data is current again."""

    kind: ClassVar[str] = "feed_fresh"
    symbol: str


@dataclass(frozen=True, slots=True)
class FeedGap(Event):
    """Data is missing: candle intervals (``ohlc``) or trade ids (``trade``) never arrived.

    ``first``/``last`` are interval start times (ns) for ``ohlc`` and trade ids for ``trade``.
    """

    kind: ClassVar[str] = "feed_gap"
    symbol: str
    channel: str
    first: int
    last: int
    count: int
    reason: str


@dataclass(frozen=True, slots=True)
class MessageRejected(Event):
    """A message (or part of one) was refused and never reached a strategy."""

    kind: ClassVar[str] = "message_rejected"
    channel: str
    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class BookResynced(Event):
    """A symbol's order book was dropped and resubscribed (e.g. after a checksum mismatch)."""

    kind: ClassVar[str] = "book_resync"
    symbol: str
    reason: str


@dataclass(frozen=True, slots=True)
class FeedSummary(Event):
    """Counters of the whole session's feed (messages, rejections by reason, gaps, reconnects)."""

    kind: ClassVar[str] = "feed_summary"
    counts: dict[str, Any]
