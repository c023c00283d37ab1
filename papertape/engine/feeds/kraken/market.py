"""The replay server's view of the market: what a subscriber's snapshot shows at any moment.

:class:`ReplayMarket` applies tape messages in order (books, recent candles, the last trades,
the ticker) and renders Kraken v2 snapshot messages from that state, as the exchange does when
a client (re)subscribes: the current book with its checksum, recent candles (the last one
still forming), the last 50 trades and the ticker.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from papertape.engine.feeds.kraken.book import OrderBook
from papertape.engine.feeds.kraken.protocol import BookData, Candle, Ticker, Trade
from papertape.engine.feeds.kraken.tape import (
    TapeMessage,
    render_book,
    render_candles,
    render_tickers,
    render_trades,
)

__all__ = ["ReplayMarket"]


class ReplayMarket:
    """Per-symbol state built from the tape, and the snapshots it implies."""

    def __init__(
        self,
        symbols: Sequence[str],
        depth: int = 10,
        history: int = 720,
        trade_history: int = 50,
        price_decimals: int = 8,
    ) -> None:
        self.symbols = tuple(symbols)
        self.depth = depth
        self.price_decimals = price_decimals
        self.books = {s: OrderBook(s, max(depth, 10)) for s in self.symbols}
        self.candles: dict[str, deque[Candle]] = {s: deque(maxlen=history) for s in self.symbols}
        self.trades: dict[str, deque[Trade]] = {
            s: deque(maxlen=trade_history) for s in self.symbols
        }
        self.tickers: dict[str, Ticker | None] = dict.fromkeys(self.symbols)
        self.now = 0  # stream time of the last applied message

    def apply(self, msg: TapeMessage) -> None:
        """Fold one message into the state (snapshots replace, updates amend)."""
        if msg.time > self.now:
            self.now = msg.time
        for item in msg.items:
            if isinstance(item, BookData):
                book = self.books.get(item.symbol)
                if book is None:
                    continue
                if msg.snapshot:
                    book.apply_snapshot(item.bids, item.asks, item.time)
                else:
                    book.apply_update(item.bids, item.asks, item.time)
                book.valid = True
            elif isinstance(item, Candle):
                dq = self.candles.get(item.symbol)
                if dq is None:
                    continue
                if dq and dq[-1].begin == item.begin:
                    dq[-1] = item
                elif not dq or item.begin > dq[-1].begin:
                    dq.append(item)
            elif isinstance(item, Trade):
                tq = self.trades.get(item.symbol)
                if tq is not None and (not tq or item.trade_id > tq[-1].trade_id):
                    tq.append(item)
            elif isinstance(item, Ticker) and item.symbol in self.tickers:
                self.tickers[item.symbol] = item

    def snapshot(self, channel: str, symbol: str, depth: int = 10) -> str:
        """The snapshot message a new ``channel`` subscription for ``symbol`` receives."""
        if channel == "book":
            book = self.books[symbol]
            d = BookData(symbol, tuple(book.bids[:depth]), tuple(book.asks[:depth]), 0, 0)
            view = OrderBook(symbol, depth)
            view.apply_snapshot(d.bids, d.asks)
            return render_book(
                BookData(symbol, d.bids, d.asks, view.checksum(), book.time or self.now), True
            )
        if channel == "ohlc":
            return render_candles(self.candles[symbol], True, self.now)
        if channel == "trade":
            return render_trades(self.trades[symbol], True, self.price_decimals)
        ticker = self.tickers[symbol]
        return render_tickers([ticker] if ticker is not None else [], True)

    def previous_candle(self, symbol: str) -> Candle | None:
        """The candle before the forming one (its update now would be out of order)."""
        dq = self.candles.get(symbol)
        return dq[-2] if dq is not None and len(dq) >= 2 else None

    def last_trade(self, symbol: str) -> Trade | None:
        """The latest trade of ``symbol``."""
        tq = self.trades.get(symbol)
        return tq[-1] if tq else None
