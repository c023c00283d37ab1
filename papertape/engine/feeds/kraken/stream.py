"""What a Kraken v2 stream means, message by message, without any networking.

:class:`StreamProcessor` turns validated messages into the engine's inputs and guards them:

* **Candles → bars.** Kraken's ``ohlc`` channel repeats the forming candle; a candle is a bar
  once a later interval begins. Candles from a snapshot close as *backfill* (their interval
  ended before the feed delivered them): strategies see them on a stale snapshot, so they can
  warm up but not trade. Missing intervals are reported as gaps.
* **Trades** are deduplicated by ``trade_id`` (a resubscription's snapshot repeats the last
  50); a jump in ids is a gap.
* **Book** messages update the local :class:`~engine.feeds.kraken.book.OrderBook`, and every
  snapshot and update is verified against Kraken's CRC32. On a mismatch the book is marked
  invalid and resubscribed; until the new snapshot, the symbol is stale.
* Malformed, unknown, duplicate and out-of-order messages are counted by reason, logged and
  dropped.

Staleness of a symbol (``stale_reason``) combines the connection (down or resubscribing), the
book (invalid) and silence (no market data and no heartbeat for ``staleness_s``; Kraken sends
a heartbeat every second on an idle subscription, so silence means the stream is stuck).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from papertape.engine.events import BookResynced, FeedGap, MessageRejected
from papertape.engine.feeds.kraken.book import OrderBook
from papertape.engine.feeds.kraken.protocol import (
    Ack,
    BookMessage,
    Candle,
    Heartbeat,
    OhlcMessage,
    Rejected,
    RejectReason,
    Status,
    Ticker,
    TickerMessage,
    Trade,
    TradeMessage,
    parse_message,
)

if TYPE_CHECKING:
    from papertape.engine.events import Event

__all__ = ["FeedHandler", "FeedStats", "StreamProcessor", "SymbolState"]

log = logging.getLogger("papertape.feed")
MINUTE_NS = 60_000_000_000
LOG_FIRST = 20  # rejections logged at WARNING per reason before thinning out
EVENT_CAP = 100  # rejection events journaled per reason (all are counted)


class FeedHandler(Protocol):
    """Receives the engine inputs a stream produces (implemented by the live session)."""

    def on_bar(self, candle: Candle, stale_reason: str) -> None:
        """A candle closed; ``stale_reason`` is empty when the data is current."""

    def on_trade(self, trade: Trade, backfill: bool) -> None:
        """A new trade (``backfill``: recovered from a snapshot)."""

    def on_book(self, book: OrderBook) -> None:
        """A symbol's book changed and passed its checksum."""

    def on_ticker(self, ticker: Ticker) -> None:
        """A ticker update."""


@dataclass(slots=True)
class FeedStats:
    """Counters of a feed session."""

    messages: int = 0
    heartbeats: int = 0
    bars: int = 0
    backfilled_bars: int = 0
    trades: int = 0
    book_messages: int = 0
    book_snapshots: int = 0
    deduplicated: int = 0
    ohlc_gap_intervals: int = 0
    trade_gap_ids: int = 0
    connections: int = 0
    reconnects: int = 0
    book_resyncs: int = 0
    dropped_while_resyncing: int = 0
    rejected: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for events and reports."""
        out: dict[str, Any] = {
            k: getattr(self, k) for k in self.__dataclass_fields__ if k != "rejected"
        }
        out["rejected"] = dict(sorted(self.rejected.items()))
        return out


@dataclass(slots=True)
class SymbolState:
    """What the stream knows about one symbol."""

    symbol: str
    book: OrderBook
    forming: Candle | None = None  # the candle of the current interval
    last_closed: int = -1  # begin (ns) of the last closed candle
    last_trade_id: int = -1
    ticker_time: int = 0
    resyncing: bool = False


def _ignore(_: Any) -> None:
    return None


class StreamProcessor:
    """Applies messages to per-symbol state and calls the handler with clean inputs."""

    def __init__(
        self,
        symbols: Sequence[str],
        handler: FeedHandler,
        *,
        interval_min: int = 1,
        depth: int = 10,
        staleness_s: float = 10.0,
        emit: Callable[[Event], None] = _ignore,
        resync: Callable[[str], None] = _ignore,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.symbols = tuple(symbols)
        self.handler = handler
        self.interval_ns = interval_min * MINUTE_NS
        self.interval_min = interval_min
        self.staleness_s = staleness_s
        self.emit = emit
        self.resync = resync
        self.clock = clock
        self.stats = FeedStats()
        self.states = {s: SymbolState(s, OrderBook(s, depth)) for s in self.symbols}
        self.now_ns = 0  # latest market time seen
        self.last_message = clock()
        self.connected = False
        self.awaiting: set[tuple[str, str]] = set()  # (channel, symbol) snapshots still due
        self.acks: list[Ack] = []  # acknowledgements since the last reset
        self.in_snapshot = False

    # ---------------------------------------------------------------------------------------
    # connection life cycle (driven by the client)
    # ---------------------------------------------------------------------------------------

    def connection_opened(self, channels: Sequence[str]) -> None:
        """A new connection subscribes to ``channels`` for every symbol."""
        self.connected = True
        self.last_message = self.clock()
        self.awaiting = {(c, s) for c in channels for s in self.symbols}
        self.acks.clear()

    def connection_lost(self) -> None:
        """The connection is gone: books are void until their next snapshot."""
        self.connected = False
        for st in self.states.values():
            st.book.valid = False
            st.resyncing = False

    @property
    def live(self) -> bool:
        """Connected and every subscription has delivered its snapshot."""
        return self.connected and not self.awaiting

    def stale_reason(self, symbol: str) -> str:
        """Why ``symbol``'s data is not current, or ``""`` when it is."""
        if not self.connected:
            return "feed disconnected"
        if self.awaiting and any(s == symbol for _, s in self.awaiting):
            return "resubscribing: waiting for snapshots"
        if not self.states[symbol].book.valid:
            return "order book not synchronised (checksum mismatch or no snapshot yet)"
        silent = self.clock() - self.last_message
        if silent > self.staleness_s:
            return f"no message for {silent:.1f}s (limit {self.staleness_s:g}s)"
        return ""

    # ---------------------------------------------------------------------------------------
    # messages
    # ---------------------------------------------------------------------------------------

    def process(self, raw: str | bytes) -> None:
        """Handle one text frame (the hot path: no awaits, no I/O besides logging)."""
        self.stats.messages += 1
        msg = parse_message(raw)
        if isinstance(msg, Rejected):
            self.reject(msg)
            return
        if isinstance(msg, BookMessage | TradeMessage | OhlcMessage | TickerMessage | Heartbeat):
            # Market data and heartbeats prove the subscriptions live; a pong or an ack
            # only proves the socket does.
            self.last_message = self.clock()
        if isinstance(msg, BookMessage):
            self._book(msg)
        elif isinstance(msg, TradeMessage):
            self._trades(msg)
        elif isinstance(msg, OhlcMessage):
            self._ohlc(msg)
        elif isinstance(msg, TickerMessage):
            self._tickers(msg)
        elif isinstance(msg, Heartbeat):
            self.stats.heartbeats += 1
        elif isinstance(msg, Ack):
            self.acks.append(msg)
            if not msg.success:
                self.reject(
                    Rejected(
                        RejectReason.SUBSCRIBE_FAILED,
                        f"{msg.method} {msg.channel or '?'} {msg.symbol}: {msg.error}".strip(),
                    )
                )
        elif isinstance(msg, Status):
            log.info("exchange status: %s", msg)

    def reject(self, r: Rejected, symbol: str = "") -> None:
        """Count, log and journal a refused message (or part of one)."""
        n = self.stats.rejected[r.reason.value] + 1
        self.stats.rejected[r.reason.value] = n
        where = f"{r.channel} {symbol}".strip() or "-"
        if n <= LOG_FIRST or n % 1000 == 0:
            log.warning(
                "rejected message [%s] %s: %s (%d so far)", r.reason.value, where, r.detail, n
            )
        else:
            log.debug("rejected message [%s] %s: %s", r.reason.value, where, r.detail)
        if n <= EVENT_CAP:
            self.emit(MessageRejected(self.now_ns, r.channel, r.reason.value, r.detail))

    def _state(self, symbol: str, channel: str) -> SymbolState | None:
        st = self.states.get(symbol)
        if st is None:
            self.reject(Rejected(RejectReason.UNKNOWN_SYMBOL, f"symbol={symbol!r}", channel))
        return st

    def _snapshot_seen(self, channel: str, symbol: str) -> None:
        if self.awaiting:
            self.awaiting.discard((channel, symbol))

    # -- ohlc --------------------------------------------------------------------------------

    def _ohlc(self, msg: OhlcMessage) -> None:
        snap = msg.snapshot
        items = sorted(msg.items, key=lambda c: c.begin) if snap else msg.items
        for c in items:
            st = self._state(c.symbol, "ohlc")
            if st is None:
                continue
            if c.interval_min != self.interval_min:
                self.reject(
                    Rejected(
                        RejectReason.MALFORMED,
                        f"interval {c.interval_min}, subscribed {self.interval_min}",
                        "ohlc",
                    ),
                    c.symbol,
                )
                continue
            if c.begin > self.now_ns:
                self.now_ns = c.begin
            if c.begin <= st.last_closed:
                if snap:
                    self.stats.deduplicated += 1
                else:
                    self.reject(
                        Rejected(
                            RejectReason.OUT_OF_ORDER,
                            f"update for the closed interval "
                            f"{c.begin} (last closed {st.last_closed})",
                            "ohlc",
                        ),
                        c.symbol,
                    )
                continue
            forming = st.forming
            if forming is None or c.begin == forming.begin:
                st.forming = c
            elif c.begin > forming.begin:
                self._close(st, forming, snap)
                st.forming = c
            else:
                self.reject(
                    Rejected(
                        RejectReason.OUT_OF_ORDER,
                        f"candle {c.begin} older than the forming one {forming.begin}",
                        "ohlc",
                    ),
                    c.symbol,
                )
        if snap:
            for c in msg.items:
                self._snapshot_seen("ohlc", c.symbol)
            if not msg.items:  # no history: an empty snapshot answers the subscription
                self._empty_snapshot("ohlc")

    def _close(self, st: SymbolState, candle: Candle, backfill: bool) -> None:
        step = self.interval_ns
        if st.last_closed >= 0:
            missing = (candle.begin - st.last_closed) // step - 1
            if missing > 0:
                self.stats.ohlc_gap_intervals += missing
                why = (
                    "no candle in a snapshot after a reconnect (not recoverable)"
                    if backfill
                    else "no candle: no trades in these intervals"
                )
                self.emit(
                    FeedGap(
                        self.now_ns,
                        st.symbol,
                        "ohlc",
                        st.last_closed + step,
                        candle.begin - step,
                        missing,
                        why,
                    )
                )
        st.last_closed = candle.begin
        self.stats.bars += 1
        if backfill:
            self.stats.backfilled_bars += 1
            reason = "backfilled bar: its interval ended before the feed delivered it"
        else:
            reason = self.stale_reason(st.symbol)
        self.handler.on_bar(candle, reason)

    # -- trades ------------------------------------------------------------------------------

    def _trades(self, msg: TradeMessage) -> None:
        snap = msg.snapshot
        for tr in msg.items:
            st = self._state(tr.symbol, "trade")
            if st is None:
                continue
            last = st.last_trade_id
            if last >= 0 and tr.trade_id <= last:
                if snap:
                    self.stats.deduplicated += 1
                else:
                    self.reject(
                        Rejected(
                            RejectReason.DUPLICATE,
                            f"trade_id {tr.trade_id} already seen (last {last})",
                            "trade",
                        ),
                        tr.symbol,
                    )
                continue
            if last >= 0 and tr.trade_id > last + 1:
                n = tr.trade_id - last - 1
                self.stats.trade_gap_ids += n
                self.emit(
                    FeedGap(
                        self.now_ns,
                        tr.symbol,
                        "trade",
                        last + 1,
                        tr.trade_id - 1,
                        n,
                        "trade ids skipped (missed while disconnected)",
                    )
                )
            st.last_trade_id = tr.trade_id
            if tr.time > self.now_ns:
                self.now_ns = tr.time
            self.stats.trades += 1
            self.handler.on_trade(tr, snap)
        if snap:
            for tr in msg.items:
                self._snapshot_seen("trade", tr.symbol)
            if not msg.items:  # an empty snapshot still answers every subscribed symbol
                self._empty_snapshot("trade")

    def _empty_snapshot(self, channel: str) -> None:
        for key in [k for k in self.awaiting if k[0] == channel]:
            self.awaiting.discard(key)

    # -- book --------------------------------------------------------------------------------

    def _book(self, msg: BookMessage) -> None:
        self.stats.book_messages += 1
        for d in msg.items:
            st = self._state(d.symbol, "book")
            if st is None:
                continue
            book = st.book
            if msg.snapshot:
                self.stats.book_snapshots += 1
                book.apply_snapshot(d.bids, d.asks, d.time)
                st.resyncing = False
                self._snapshot_seen("book", d.symbol)
            elif not book.valid:
                self.stats.dropped_while_resyncing += 1  # expected until the new snapshot
                continue
            elif d.time and d.time < book.time:
                self.reject(
                    Rejected(
                        RejectReason.OUT_OF_ORDER,
                        f"book update at {d.time} older than {book.time}",
                        "book",
                    ),
                    d.symbol,
                )
                self._resync(st, "out-of-order book update")
                continue
            else:
                book.apply_update(d.bids, d.asks, d.time)
            if d.time > self.now_ns:
                self.now_ns = d.time
            local = book.checksum()
            if local != d.checksum:
                self.reject(
                    Rejected(
                        RejectReason.CHECKSUM_MISMATCH,
                        f"local {local} != kraken {d.checksum}",
                        "book",
                    ),
                    d.symbol,
                )
                self._resync(st, f"checksum mismatch (local {local}, kraken {d.checksum})")
                continue
            book.valid = True
            self.handler.on_book(book)

    def _resync(self, st: SymbolState, why: str) -> None:
        st.book.valid = False
        if st.resyncing:
            return
        st.resyncing = True
        self.stats.book_resyncs += 1
        log.warning("%s: order book resubscribed: %s", st.symbol, why)
        self.emit(BookResynced(self.now_ns, st.symbol, why))
        self.resync(st.symbol)

    # -- ticker ------------------------------------------------------------------------------

    def _tickers(self, msg: TickerMessage) -> None:
        for tk in msg.items:
            st = self._state(tk.symbol, "ticker")
            if st is None:
                continue
            if tk.time and tk.time < st.ticker_time:
                self.reject(
                    Rejected(
                        RejectReason.OUT_OF_ORDER,
                        f"ticker at {tk.time} older than {st.ticker_time}",
                        "ticker",
                    ),
                    tk.symbol,
                )
                continue
            st.ticker_time = tk.time or st.ticker_time
            if msg.snapshot:
                self._snapshot_seen("ticker", tk.symbol)
            self.handler.on_ticker(tk)
        if msg.snapshot and not msg.items:
            self._empty_snapshot("ticker")
