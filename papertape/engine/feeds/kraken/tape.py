"""Recorded market data as a Kraken v2 message tape, for the local replay server.

A :class:`Tape` is an ordered stream of :class:`TapeMessage` (the exact wire text plus its
parsed items) and a *prelude* that sets the market's state before the first message (history
candles, the opening book). Sources:

* **OHLCV bars** (the shipped candles): each bar becomes ``trades_per_bar`` prints along an
  open → low → high → close path (open → high → low → close for a falling bar) at even offsets
  inside the interval, with the bar's volume split evenly. After each print come an ``ohlc``
  update (the forming candle; the last one carries the bar's exact values), a ``book`` update
  and a ``ticker`` update. A replayed bar therefore closes with the file's exact OHLCV.
* **Trades** (``timestamp,id,side,price,amount``): one print per trade, candles aggregated on
  the interval grid.
* **Capture files** from ``papertape feed record``: the recorded frames, verbatim.

The synthetic book is depth 10 around the last print, one level every ``level_bps`` of price,
with seeded random sizes around ``level_qty``; a level keeps its size while it stays in the
book, so updates carry only what changed. Checksums are Kraken's CRC32 of the result.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from papertape.engine.errors import DataError
from papertape.engine.feeds.kraken.book import OrderBook
from papertape.engine.feeds.kraken.protocol import (
    BookData,
    BookLevel,
    BookMessage,
    Candle,
    OhlcMessage,
    Ticker,
    TickerMessage,
    Trade,
    TradeMessage,
    format_time,
    level_token,
    parse_message,
)

__all__ = [
    "MINUTE_NS",
    "Print",
    "Tape",
    "TapeMessage",
    "capture_messages",
    "price_decimals",
    "prints_from_bars",
    "prints_from_ticks",
    "render_book",
    "render_candles",
    "render_tickers",
    "render_trades",
    "require_minutes",
    "synthesize",
]

MINUTE_NS = 60_000_000_000
Item = BookData | Trade | Candle | Ticker


@dataclass(frozen=True, slots=True)
class TapeMessage:
    """One frame of the tape: stream time, channel, symbol, wire text and parsed items."""

    time: int
    channel: str
    symbol: str
    text: str
    items: tuple[Item, ...]
    snapshot: bool = False


@dataclass(slots=True)
class Tape:
    """A replayable stream for the server: what it carries and how to iterate it once."""

    symbols: tuple[str, ...]
    channels: tuple[str, ...]
    interval_min: int
    depth: int
    messages: Callable[[], Iterator[TapeMessage]]
    prelude: list[TapeMessage] = field(default_factory=list)
    source: str = ""


@dataclass(frozen=True, slots=True)
class Print:
    """A trade to synthesize: ``begin`` is its candle's interval start.

    ``cum_volume`` overrides the candle's running volume (so a bar ends on its exact volume);
    ``qty`` 0 moves the price without a trade message.
    """

    time: int
    begin: int
    price: float
    qty: float
    cum_volume: float | None = None


# --------------------------------------------------------------------------------------------
# Rendering (server → wire)
# --------------------------------------------------------------------------------------------


def _levels_json(levels: Iterable[BookLevel]) -> str:
    return ",".join(f'{{"price":{lv.price_text},"qty":{lv.qty_text}}}' for lv in levels)


def render_book(d: BookData, snapshot: bool) -> str:
    """A ``book`` message with one symbol (level numbers written from their wire text)."""
    kind = "snapshot" if snapshot else "update"
    ts = f',"timestamp":"{format_time(d.time)}"' if d.time else ""
    return (
        f'{{"channel":"book","type":"{kind}","data":[{{"symbol":{json.dumps(d.symbol)},'
        f'"bids":[{_levels_json(d.bids)}],"asks":[{_levels_json(d.asks)}],'
        f'"checksum":{d.checksum}{ts}}}]}}'
    )


def render_trades(trades: Iterable[Trade], snapshot: bool, decimals: int = 8) -> str:
    """A ``trade`` message; prices with ``decimals`` digits, quantities with 8."""
    kind = "snapshot" if snapshot else "update"
    data = ",".join(
        f'{{"symbol":{json.dumps(t.symbol)},"side":"{"buy" if t.side > 0 else "sell"}",'
        f'"price":{t.price:.{decimals}f},"qty":{t.qty:.8f},"ord_type":"{t.ord_type}",'
        f'"trade_id":{t.trade_id},"timestamp":"{format_time(t.time)}"}}'
        for t in trades
    )
    return f'{{"channel":"trade","type":"{kind}","data":[{data}]}}'


def render_candles(candles: Iterable[Candle], snapshot: bool, time: int = 0) -> str:
    """An ``ohlc`` message; values written with ``repr`` so they read back exactly."""
    kind = "snapshot" if snapshot else "update"
    data = ",".join(
        f'{{"symbol":{json.dumps(c.symbol)},"open":{c.open!r},"high":{c.high!r},'
        f'"low":{c.low!r},"close":{c.close!r},"trades":{c.trades},"volume":{c.volume!r},'
        f'"vwap":{c.vwap!r},"interval_begin":"{format_time(c.begin)}",'
        f'"interval":{c.interval_min},"timestamp":"{format_time(time or c.begin)}"}}'
        for c in candles
    )
    return f'{{"channel":"ohlc","type":"{kind}","data":[{data}]}}'


def render_tickers(tickers: Iterable[Ticker], snapshot: bool) -> str:
    """A ``ticker`` message."""
    kind = "snapshot" if snapshot else "update"
    data = ",".join(
        f'{{"symbol":{json.dumps(t.symbol)},"bid":{t.bid!r},"bid_qty":{t.bid_qty!r},'
        f'"ask":{t.ask!r},"ask_qty":{t.ask_qty!r},"last":{t.last!r},"volume":{t.volume!r}'
        + (f',"timestamp":"{format_time(t.time)}"' if t.time else "")
        + "}"
        for t in tickers
    )
    return f'{{"channel":"ticker","type":"{kind}","data":[{data}]}}'


# --------------------------------------------------------------------------------------------
# Prints from data
# --------------------------------------------------------------------------------------------


def price_decimals(prices: NDArray[np.float64], most: int = 10) -> int:
    """The fewest decimals that write every price exactly (at most ``most``)."""
    x = np.asarray(prices, dtype=np.float64)
    for d in range(most + 1):
        scaled = x * 10.0**d
        if np.all(np.abs(scaled - np.round(scaled)) <= 1e-6 * np.maximum(1.0, np.abs(scaled))):
            return d
    return most


def prints_from_bars(
    time: NDArray[np.int64],
    o: NDArray[np.float64],
    h: NDArray[np.float64],
    lo: NDArray[np.float64],
    c: NDArray[np.float64],
    v: NDArray[np.float64],
    interval_ns: int,
    per_bar: int = 4,
) -> Iterator[Print]:
    """Prints along each bar's path, ending on its exact close and volume.

    Raises:
        ValueError: ``per_bar`` < 4 (open, both extremes and close need a print each).
    """
    if per_bar < 4:
        raise ValueError(f"trades per bar must be at least 4, got {per_bar}")
    offsets = [interval_ns * k // per_bar for k in range(per_bar)]
    for t, op, hi, low, cl, vol in zip(
        time.tolist(), o.tolist(), h.tolist(), lo.tolist(), c.tolist(), v.tolist(), strict=True
    ):
        path = [op, low, hi] if cl >= op else [op, hi, low]
        path += [cl] * (per_bar - 3)
        qty = round(vol / per_bar, 8)
        for k in range(per_bar):
            last = k == per_bar - 1
            yield Print(
                t + offsets[k],
                t,
                path[k],
                qty if qty > 0 else 0.0,
                vol if last else vol * (k + 1) / per_bar,
            )


def prints_from_ticks(
    time: NDArray[np.int64],
    price: NDArray[np.float64],
    qty: NDArray[np.float64],
    interval_ns: int,
) -> Iterator[Print]:
    """One print per trade; candles on the epoch-aligned interval grid."""
    for t, p, q in zip(time.tolist(), price.tolist(), qty.tolist(), strict=True):
        yield Print(t, t // interval_ns * interval_ns, p, q)


# --------------------------------------------------------------------------------------------
# Synthesis
# --------------------------------------------------------------------------------------------


class _BookMaker:
    """Builds the synthetic depth around a price and reports what changed."""

    def __init__(
        self,
        symbol: str,
        decimals: int,
        depth: int,
        level_bps: float,
        level_qty: float,
        rng: random.Random,
    ) -> None:
        self.symbol = symbol
        self.decimals = decimals
        self.depth = depth
        self.level_bps = level_bps
        self.level_qty = level_qty
        self.rng = rng
        self.bids: dict[int, str] = {}
        self.asks: dict[int, str] = {}
        self.book = OrderBook(symbol, depth)

    def _level(self, ticks: int, qty: str) -> BookLevel:
        pt = f"{ticks / 10**self.decimals:.{self.decimals}f}"
        return BookLevel(float(pt), float(qty), pt, qty, level_token(pt, qty))

    def _qty(self, k: int) -> str:
        return f"{self.level_qty * self.rng.uniform(0.5, 1.5) * (1.0 + 0.2 * k):.8f}"

    def move(self, price: float, time: int) -> BookData:
        scale = 10**self.decimals
        p = round(price * scale)
        step = max(1, round(p * self.level_bps * 1e-4))
        want_a = {p + k * step: k for k in range(1, self.depth + 1)}
        want_b = {p - k * step: k for k in range(1, self.depth + 1) if p - k * step > 0}
        out_b: list[BookLevel] = []
        out_a: list[BookLevel] = []
        for side, want, out in ((self.bids, want_b, out_b), (self.asks, want_a, out_a)):
            for ticks in [t for t in side if t not in want]:
                del side[ticks]
                out.append(self._level(ticks, "0.00000000"))
            jiggle = self.rng.randrange(1, self.depth + 1)
            for ticks, k in want.items():
                if ticks not in side or k == jiggle:
                    side[ticks] = self._qty(k)
                    out.append(self._level(ticks, side[ticks]))
        self.book.apply_update(out_b, out_a, time)
        self.book.valid = True
        return BookData(self.symbol, tuple(out_b), tuple(out_a), self.book.checksum(), time)


def synthesize(
    prints: Iterable[Print],
    symbol: str,
    interval_ns: int,
    decimals: int,
    *,
    depth: int = 10,
    level_bps: float = 1.0,
    level_qty: float = 1.0,
    seed: int = 7,
    history: Iterable[Candle] = (),
    first_price: float | None = None,
) -> tuple[list[TapeMessage], Iterator[TapeMessage]]:
    """Turn prints into trade, ohlc, book and ticker messages (see the module docstring).

    Returns:
        The prelude (``history`` candles and an opening book around ``first_price``: state
        before the first message, never sent) and the lazy message stream.
    """
    maker = _BookMaker(symbol, decimals, depth, level_bps, level_qty, random.Random(seed))
    prelude: list[TapeMessage] = []
    hist = list(history)
    for c in hist:
        prelude.append(TapeMessage(c.begin, "ohlc", symbol, "", (c,)))
    if first_price is not None:
        t0 = hist[-1].begin if hist else 0
        prelude.append(TapeMessage(t0, "book", symbol, "", (maker.move(first_price, t0),)))
    return prelude, _stream(
        prints, symbol, interval_ns // MINUTE_NS, decimals, maker, first_price or 0.0
    )


def _stream(
    prints: Iterable[Print],
    symbol: str,
    interval_min: int,
    decimals: int,
    maker: _BookMaker,
    last_price: float,
) -> Iterator[TapeMessage]:
    trade_id = 0
    cur: Candle | None = None
    pv = 0.0
    day_volume = 0.0
    for pr in prints:
        if pr.qty > 0.0:
            trade_id += 1
            side = 1 if pr.price >= last_price else -1
            tr = Trade(symbol, side, pr.price, pr.qty, trade_id, pr.time)
            yield TapeMessage(
                pr.time, "trade", symbol, render_trades((tr,), False, decimals), (tr,)
            )
        last_price = pr.price
        day_volume += pr.qty
        if cur is None or pr.begin != cur.begin:
            pv = pr.price * pr.qty
            vol = pr.cum_volume if pr.cum_volume is not None else pr.qty
            cur = Candle(
                symbol,
                pr.begin,
                interval_min,
                pr.price,
                pr.price,
                pr.price,
                pr.price,
                vol,
                pr.price,
                1 if pr.qty > 0 else 0,
            )
        else:
            pv += pr.price * pr.qty
            vol = pr.cum_volume if pr.cum_volume is not None else cur.volume + pr.qty
            cur = Candle(
                symbol,
                cur.begin,
                interval_min,
                cur.open,
                max(cur.high, pr.price),
                min(cur.low, pr.price),
                pr.price,
                vol,
                pv / vol if vol > 0 else pr.price,
                cur.trades + int(pr.qty > 0),
            )
        yield TapeMessage(pr.time, "ohlc", symbol, render_candles((cur,), False, pr.time), (cur,))
        d = maker.move(pr.price, pr.time)
        yield TapeMessage(pr.time, "book", symbol, render_book(d, False), (d,))
        top = maker.book.top()
        if top is not None:
            tk = Ticker(
                symbol,
                top.bid,
                top.bid_size,
                top.ask,
                top.ask_size,
                pr.price,
                round(day_volume, 8),
                pr.time,
            )
            yield TapeMessage(pr.time, "ticker", symbol, render_tickers((tk,), False), (tk,))


def capture_messages(frames: Iterable[tuple[int, str]]) -> Iterator[TapeMessage]:
    """Recorded ``(receive time, frame)`` pairs → tape messages (market channels only)."""
    for t, raw in frames:
        msg = parse_message(raw)
        if isinstance(msg, BookMessage | TradeMessage | OhlcMessage | TickerMessage):
            if not msg.items:
                continue
            channel = {
                BookMessage: "book",
                TradeMessage: "trade",
                OhlcMessage: "ohlc",
                TickerMessage: "ticker",
            }[type(msg)]
            yield TapeMessage(t, channel, msg.items[0].symbol, raw, msg.items, msg.snapshot)


def require_minutes(interval_ns: int, source: str) -> int:
    """The interval in whole minutes (Kraken's ohlc unit), or a DataError."""
    if interval_ns <= 0 or interval_ns % MINUTE_NS:
        raise DataError(
            f"{source}: bars every {interval_ns / 1e9:g}s cannot be replayed as "
            "Kraken ohlc candles (whole minutes only)"
        )
    return interval_ns // MINUTE_NS
