"""Kraken WebSocket v2 market data: protocol, checksummed order book, resilient client.

See docs/live.md. The replay server (:mod:`engine.feeds.replay_server`) speaks the same
protocol from recorded data.
"""

from papertape.engine.feeds.kraken.book import OrderBook
from papertape.engine.feeds.kraken.client import (
    KRAKEN_WS_URL,
    FeedOptions,
    KrakenFeed,
    backoff_delay,
)
from papertape.engine.feeds.kraken.protocol import RejectReason, parse_message
from papertape.engine.feeds.kraken.sources import load_tape
from papertape.engine.feeds.kraken.stream import FeedHandler, FeedStats, StreamProcessor
from papertape.engine.feeds.kraken.tape import Tape

__all__ = [
    "KRAKEN_WS_URL",
    "FeedHandler",
    "FeedOptions",
    "FeedStats",
    "KrakenFeed",
    "OrderBook",
    "RejectReason",
    "StreamProcessor",
    "Tape",
    "backoff_delay",
    "load_tape",
    "parse_message",
]
