"""A local Kraken order book per symbol, verified with Kraken's CRC32 checksum.

Maintenance follows Kraken's v2 book guide: apply every level of a message (``qty`` 0 removes
the level), then truncate each side to the subscribed depth, because levels that fall out of
scope are not deleted explicitly. The checksum is CRC32 over the top 10 asks (low to high) then
the top 10 bids (high to low), each level written as its price digits then its quantity digits,
decimal point and leading zeros removed, from the exact wire text.

Sides are short sorted lists (depth 10 to 1000), so a level is found with :mod:`bisect`;
bids are keyed by negated price to keep both lists ascending.
"""

from __future__ import annotations

import zlib
from bisect import bisect_left
from collections.abc import Iterable

from papertape.engine.feeds.kraken.protocol import BookLevel
from papertape.engine.market import TopOfBook

__all__ = ["CHECKSUM_LEVELS", "VALID_DEPTHS", "OrderBook"]

CHECKSUM_LEVELS = 10
VALID_DEPTHS = (10, 25, 100, 500, 1000)


class OrderBook:
    """Bids and asks of one symbol, truncated to ``depth`` levels a side.

    ``bids`` is best (highest) first and ``asks`` best (lowest) first; both hold the
    :class:`~engine.feeds.kraken.protocol.BookLevel` values from the wire. ``valid`` is False
    until a snapshot is applied and again after a failed checksum, until the next snapshot.
    """

    __slots__ = ("_ask_keys", "_bid_keys", "asks", "bids", "depth", "symbol", "time", "valid")

    def __init__(self, symbol: str, depth: int = 10) -> None:
        if depth < 1:
            raise ValueError("depth must be positive")
        self.symbol = symbol
        self.depth = depth
        self.bids: list[BookLevel] = []
        self.asks: list[BookLevel] = []
        self._bid_keys: list[float] = []  # -price, ascending
        self._ask_keys: list[float] = []  # price, ascending
        self.time = 0
        self.valid = False

    def clear(self) -> None:
        """Forget every level and mark the book invalid."""
        self.bids.clear()
        self.asks.clear()
        self._bid_keys.clear()
        self._ask_keys.clear()
        self.valid = False

    def apply_snapshot(
        self, bids: Iterable[BookLevel], asks: Iterable[BookLevel], time: int = 0
    ) -> None:
        """Replace the whole book (the caller verifies the checksum, then sets ``valid``)."""
        self.clear()
        self.apply_update(bids, asks, time)

    def apply_update(
        self, bids: Iterable[BookLevel], asks: Iterable[BookLevel], time: int = 0
    ) -> None:
        """Apply changed levels in wire order, then truncate both sides to the depth."""
        for lv in bids:
            _apply(self.bids, self._bid_keys, -lv.price, lv)
        for lv in asks:
            _apply(self.asks, self._ask_keys, lv.price, lv)
        depth = self.depth
        if len(self.bids) > depth:
            del self.bids[depth:], self._bid_keys[depth:]
        if len(self.asks) > depth:
            del self.asks[depth:], self._ask_keys[depth:]
        if time > self.time:
            self.time = time

    def checksum(self) -> int:
        """Kraken's CRC32 over the top 10 levels of each side (unsigned 32-bit)."""
        top = CHECKSUM_LEVELS
        text = "".join([lv.token for lv in self.asks[:top]] + [lv.token for lv in self.bids[:top]])
        return zlib.crc32(text.encode("ascii"))

    def top(self) -> TopOfBook | None:
        """Best bid and ask with their sizes, or None while a side is empty."""
        if not self.bids or not self.asks:
            return None
        b = self.bids[0]
        a = self.asks[0]
        return TopOfBook(b.price, b.qty, a.price, a.qty)

    def __repr__(self) -> str:
        top = self.top()
        where = f"{top.bid}/{top.ask}" if top else "empty"
        size = f"{len(self.bids)}x{len(self.asks)}"
        return f"OrderBook({self.symbol!r}, {where}, {size}, valid={self.valid})"


def _apply(levels: list[BookLevel], keys: list[float], key: float, lv: BookLevel) -> None:
    i = bisect_left(keys, key)
    found = i < len(keys) and keys[i] == key
    if lv.qty == 0.0:
        if found:
            del levels[i], keys[i]
    elif found:
        levels[i] = lv
    else:
        levels.insert(i, lv)
        keys.insert(i, key)
