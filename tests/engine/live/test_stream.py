"""What a stream means: candles into bars, dedup, gaps, out-of-order, checksums, staleness."""

from __future__ import annotations

from typing import Any

from papertape.engine.feeds.kraken.book import OrderBook
from papertape.engine.feeds.kraken.protocol import (
    BookData,
    BookLevel,
    Candle,
    Ticker,
    Trade,
    level_token,
)
from papertape.engine.feeds.kraken.stream import StreamProcessor
from papertape.engine.feeds.kraken.tape import (
    render_book,
    render_candles,
    render_tickers,
    render_trades,
)

MIN = 60_000_000_000
T0 = 1_700_000_040 * 10**9 // MIN * MIN
SYM = "BTC/USD"


class Collect:
    """A feed handler that keeps what it is given."""

    def __init__(self) -> None:
        self.bars: list[tuple[int, float, str]] = []
        self.trades: list[tuple[int, bool]] = []
        self.books: list[OrderBook] = []
        self.book_valid: list[bool] = []
        self.tickers: list[Ticker] = []

    def on_bar(self, candle: Candle, stale_reason: str) -> None:
        self.bars.append((candle.begin, candle.close, stale_reason))

    def on_trade(self, trade: Trade, backfill: bool) -> None:
        self.trades.append((trade.trade_id, backfill))

    def on_book(self, book: OrderBook) -> None:
        self.books.append(book)
        self.book_valid.append(book.valid)

    def on_ticker(self, ticker: Ticker) -> None:
        self.tickers.append(ticker)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(**kw: Any) -> tuple[StreamProcessor, Collect, list[Any], list[str], Clock]:
    handler = Collect()
    events: list[Any] = []
    resyncs: list[str] = []
    clock = Clock()
    proc = StreamProcessor(
        [SYM], handler, emit=events.append, resync=resyncs.append, clock=clock, **kw
    )
    proc.connection_opened(())
    return proc, handler, events, resyncs, clock


def candle(k: int, close: float = 100.0, volume: float = 1.0) -> Candle:
    return Candle(SYM, T0 + k * MIN, 1, close, close, close, close, volume, close, 1)


def ohlc(*candles: Candle, snapshot: bool = False) -> str:
    return render_candles(candles, snapshot)


def trade(tid: int) -> Trade:
    return Trade(SYM, 1, 100.0, 0.5, tid, T0 + tid * 10**9)


def lv(price: str, qty: str) -> BookLevel:
    return BookLevel(float(price), float(qty), price, qty, level_token(price, qty))


def book_msg(
    bids: list[BookLevel],
    asks: list[BookLevel],
    snapshot: bool,
    *,
    checksum: int | None = None,
    time: int = T0,
) -> str:
    ref = OrderBook(SYM)
    ref.apply_snapshot(bids, asks)
    d = BookData(
        SYM, tuple(bids), tuple(asks), ref.checksum() if checksum is None else checksum, time
    )
    return render_book(d, snapshot)


def test_a_candle_becomes_a_bar_when_a_later_interval_begins() -> None:
    proc, h, _, _, _ = make()
    proc.awaiting.clear()
    proc.states[SYM].book.valid = True
    proc.process(ohlc(candle(0, 100.0)))
    proc.process(ohlc(candle(0, 101.0)))  # the forming candle is repeated, not a bar yet
    assert h.bars == []
    proc.process(ohlc(candle(1, 102.0)))
    assert h.bars == [(T0, 101.0, "")]  # the last values of interval 0, fresh
    assert proc.stats.bars == 1


def test_snapshot_candles_are_backfill_and_duplicates_are_dropped() -> None:
    proc, h, events, _, _ = make()
    proc.states[SYM].book.valid = True
    proc.process(ohlc(candle(0), candle(1), candle(2), snapshot=True))
    assert [b[0] for b in h.bars] == [T0, T0 + MIN]  # 2 is still forming
    assert all(b[2].startswith("backfilled") for b in h.bars)
    # a resubscription's snapshot repeats old candles and carries the missed ones
    proc.process(ohlc(candle(1), candle(2), candle(3), candle(4), snapshot=True))
    assert [b[0] for b in h.bars] == [T0 + k * MIN for k in range(4)]
    assert proc.stats.deduplicated == 1 and proc.stats.backfilled_bars == 4
    assert not [e for e in events if e.kind == "feed_gap"]


def test_missing_intervals_are_reported_as_gaps() -> None:
    proc, h, events, _, _ = make()
    proc.process(ohlc(candle(0)))
    proc.process(ohlc(candle(1)))
    proc.process(ohlc(candle(5)))  # closes 1; then 5 closes when 6 begins
    proc.process(ohlc(candle(6)))
    (gap,) = [e for e in events if e.kind == "feed_gap"]
    assert (gap.channel, gap.first, gap.last, gap.count) == ("ohlc", T0 + 2 * MIN, T0 + 4 * MIN, 3)
    assert proc.stats.ohlc_gap_intervals == 3
    assert [b[0] for b in h.bars] == [T0, T0 + MIN, T0 + 5 * MIN]


def test_out_of_order_candles_never_reach_the_handler() -> None:
    proc, h, events, _, _ = make()
    proc.process(ohlc(candle(0)))
    proc.process(ohlc(candle(1)))
    proc.process(ohlc(candle(2)))
    proc.process(ohlc(candle(0, 55.0)))  # an update for an interval that already closed
    assert proc.stats.rejected["out_of_order"] == 1
    assert all(b[1] != 55.0 for b in h.bars)
    (rej,) = [e for e in events if e.kind == "message_rejected"]
    assert rej.reason == "out_of_order" and "closed interval" in rej.detail


def test_trades_are_deduplicated_by_id_and_id_jumps_are_gaps() -> None:
    proc, h, events, _, _ = make()
    proc.process(render_trades([trade(1), trade(2)], True))
    proc.process(render_trades([trade(3)], False))
    proc.process(render_trades([trade(3)], False))  # a repeat outside a snapshot: refused
    proc.process(render_trades([trade(2), trade(3), trade(4)], True))  # resubscription
    proc.process(render_trades([trade(9)], False))
    assert h.trades == [(1, True), (2, True), (3, False), (4, True), (9, False)]
    assert proc.stats.rejected["duplicate"] == 1 and proc.stats.deduplicated == 2
    (gap,) = [e for e in events if e.kind == "feed_gap"]
    assert (gap.channel, gap.first, gap.last, gap.count) == ("trade", 5, 8, 4)


def test_checksum_mismatch_resubscribes_and_the_symbol_is_stale_until_a_new_snapshot() -> None:
    proc, h, events, resyncs, _ = make()
    bids, asks = [lv("99.0", "1.00000000")], [lv("101.0", "2.00000000")]
    proc.process(book_msg(bids, asks, True))
    assert proc.states[SYM].book.valid and len(h.books) == 1
    assert proc.stale_reason(SYM) == ""
    # an update whose checksum disagrees with the local book
    proc.process(book_msg([lv("99.5", "1.00000000")], [], False, checksum=12345))
    assert resyncs == [SYM]
    assert not proc.states[SYM].book.valid and len(h.books) == 1  # not handed on
    assert "order book" in proc.stale_reason(SYM)
    assert proc.stats.rejected["checksum_mismatch"] == 1
    assert [e.kind for e in events].count("book_resync") == 1
    # further updates are dropped (not applied on a wrong book), a bar now is stale
    proc.process(book_msg([lv("99.5", "1.00000000")], [], False))
    proc.process(ohlc(candle(0)))
    proc.process(ohlc(candle(1)))
    assert proc.stats.dropped_while_resyncing == 1 and resyncs == [SYM]
    assert h.bars[-1][2] != ""
    # the new snapshot makes the book valid again
    proc.process(book_msg([lv("99.5", "1.00000000")], asks, True))
    assert proc.states[SYM].book.valid and proc.stale_reason(SYM) == ""
    assert len(h.books) == 2


def test_a_wrong_snapshot_is_not_trusted_either() -> None:
    proc, h, _, resyncs, _ = make()
    proc.process(book_msg([lv("99.0", "1.0")], [lv("101.0", "2.0")], True, checksum=1))
    assert resyncs == [SYM] and not proc.states[SYM].book.valid and h.books == []


def test_staleness_reasons() -> None:
    proc, _, _, _, clock = make(staleness_s=5.0)
    proc.connection_opened(("book",))
    assert "resubscribing" in proc.stale_reason(SYM)
    proc.process(book_msg([lv("99.0", "1.0")], [lv("101.0", "2.0")], True))
    assert proc.live and proc.stale_reason(SYM) == ""
    clock.now += 4.0
    assert proc.stale_reason(SYM) == ""
    clock.now += 2.0
    assert "no message for 6.0s" in proc.stale_reason(SYM)
    proc.process('{"channel":"heartbeat"}')  # heartbeats prove the stream is alive
    assert proc.stale_reason(SYM) == ""
    proc.connection_lost()
    assert proc.stale_reason(SYM) == "feed disconnected"
    assert not proc.states[SYM].book.valid


def test_unknown_symbols_and_old_tickers_are_refused() -> None:
    proc, h, _, _, _ = make()
    other = Candle("ETH/USD", T0, 1, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1)
    proc.process(render_candles([other], False))
    tk = Ticker(SYM, 99.0, 1.0, 101.0, 1.0, 100.0, 5.0, T0 + 10**9)
    proc.process(render_tickers([tk], False))
    proc.process(render_tickers([Ticker(SYM, 99.0, 1.0, 101.0, 1.0, 100.0, 5.0, T0)], False))
    assert proc.stats.rejected["unknown_symbol"] == 1
    assert proc.stats.rejected["out_of_order"] == 1
    assert len(h.tickers) == 1
