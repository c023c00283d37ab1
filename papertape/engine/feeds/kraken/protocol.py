"""Kraken WebSocket v2 wire format: requests out, validated market messages in.

:func:`parse_message` turns one text frame into a typed value, or into :class:`Rejected` with a
:class:`RejectReason` when the frame is malformed or unknown; it never raises for bad input, so
a broken message is counted and logged by the caller and never reaches a strategy.

Numbers are decoded with their wire text kept (``parse_float`` receives the literal): Kraken
pushes book prices and quantities "containing full precision" and its CRC32 checksum is
computed over those exact digits, so ``0.10000000`` must stay ``"0.10000000"``.

Times are RFC 3339 strings (``2023-10-06T17:35:55.440295Z``); they become integer nanoseconds
since the Unix epoch, like every time in papertape.
"""

from __future__ import annotations

import calendar
import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from papertape.engine.feeds.kraken.messages import (
    Ack,
    BookData,
    BookLevel,
    BookMessage,
    Candle,
    Heartbeat,
    Market,
    Message,
    OhlcMessage,
    Pong,
    Rejected,
    RejectReason,
    Status,
    Ticker,
    TickerMessage,
    Trade,
    TradeMessage,
)

__all__ = [
    "CHANNELS",
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
    "format_time",
    "level_token",
    "parse_message",
    "parse_time",
    "ping_request",
    "subscribe_request",
    "unsubscribe_request",
]

CHANNELS = ("book", "trade", "ohlc", "ticker")
"""The market-data channels papertape subscribes to, in subscription order."""


class _Number(str):
    """The wire text of a JSON number (distinguishes ``1.5`` from the string ``"1.5"``)."""

    __slots__ = ()


class _Bad(Exception):
    """Internal: a field failed validation (becomes ``Rejected(MALFORMED)``)."""


# --------------------------------------------------------------------------------------------
# Time
# --------------------------------------------------------------------------------------------

_MINUTE_CACHE: dict[str, int] = {}


def parse_time(text: object) -> int:
    """RFC 3339 UTC time (``...Z``, up to 9 fractional digits) → ns since the epoch.

    Raises:
        ValueError: ``text`` is not such a time.
    """
    if not isinstance(text, str) or len(text) < 20:
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    head = text[:16]
    base = _MINUTE_CACHE.get(head)
    if base is None:
        if head[4] != "-" or head[10] not in "Tt " or head[13] != ":":
            raise ValueError(f"not an RFC 3339 time: {text!r}")
        base = (
            calendar.timegm(
                datetime.strptime(head[:10] + "T" + head[11:], "%Y-%m-%dT%H:%M").timetuple()
            )
            * 1_000_000_000
        )
        if len(_MINUTE_CACHE) > 4096:
            _MINUTE_CACHE.clear()
        _MINUTE_CACHE[head] = base
    sec = text[17:19]
    tail = text[19:]
    if text[16] == ":" and sec.isdigit() and tail[-1:] in ("Z", "z"):
        frac = tail[:-1]
        if not frac:
            return base + int(sec) * 1_000_000_000
        digits = frac[1:]
        if frac[0] == "." and 0 < len(digits) <= 9 and digits.isdigit():
            return base + int(sec) * 1_000_000_000 + int(digits.ljust(9, "0"))
    try:  # offsets such as +00:00
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not an RFC 3339 time: {text!r}") from None
    if dt.tzinfo is None:
        raise ValueError(f"time without a UTC offset: {text!r}")
    return calendar.timegm(dt.utctimetuple()) * 1_000_000_000 + dt.microsecond * 1000


def format_time(ns: int) -> str:
    """Format ns since the epoch as RFC 3339 with 6 fractional digits, as Kraken writes it."""
    sec, rest = divmod(ns, 1_000_000_000)
    return f"{datetime.fromtimestamp(sec, tz=UTC):%Y-%m-%dT%H:%M:%S}.{rest // 1000:06d}Z"


# --------------------------------------------------------------------------------------------
# Requests
# --------------------------------------------------------------------------------------------


def subscribe_request(channel: str, symbols: Sequence[str], req_id: int, **params: object) -> str:
    """A v2 ``subscribe`` request for one channel and several symbols."""
    body = {"channel": channel, "symbol": list(symbols), **params}
    return json.dumps({"method": "subscribe", "params": body, "req_id": req_id})


def unsubscribe_request(channel: str, symbols: Sequence[str], req_id: int, **params: object) -> str:
    """A v2 ``unsubscribe`` request (same parameters as the subscription)."""
    body = {"channel": channel, "symbol": list(symbols), **params}
    return json.dumps({"method": "unsubscribe", "params": body, "req_id": req_id})


def ping_request(req_id: int) -> str:
    """An application-level ``ping`` (answered by ``pong``)."""
    return json.dumps({"method": "ping", "req_id": req_id})


# --------------------------------------------------------------------------------------------
# Field checks
# --------------------------------------------------------------------------------------------


def _num(obj: Mapping[str, Any], key: str) -> float:
    v = obj.get(key)
    if isinstance(v, _Number) or (isinstance(v, int) and not isinstance(v, bool)):
        x = float(v)
        if math.isfinite(x):
            return x
    raise _Bad(f"{key}={v!r} is not a finite number")


def _pos(obj: Mapping[str, Any], key: str) -> float:
    x = _num(obj, key)
    if x <= 0.0:
        raise _Bad(f"{key}={x!r} is not positive")
    return x


def _nonneg(obj: Mapping[str, Any], key: str) -> float:
    x = _num(obj, key)
    if x < 0.0:
        raise _Bad(f"{key}={x!r} is negative")
    return x


def _int(obj: Mapping[str, Any], key: str) -> int:
    v = obj.get(key)
    if isinstance(v, int) and not isinstance(v, bool) and v >= 0:
        return v
    raise _Bad(f"{key}={v!r} is not a non-negative integer")


def _str(obj: Mapping[str, Any], key: str) -> str:
    v = obj.get(key)
    if isinstance(v, str) and not isinstance(v, _Number) and v:
        return v
    raise _Bad(f"{key}={v!r} is not a non-empty string")


def _time(obj: Mapping[str, Any], key: str, required: bool = True) -> int:
    v = obj.get(key)
    if v is None and not required:
        return 0
    try:
        return parse_time(v)
    except ValueError as exc:
        raise _Bad(f"{key}: {exc}") from None


def _digits(text: str) -> str:
    return text.replace(".", "").lstrip("0")


def level_token(price_text: str, qty_text: str) -> str:
    """A level's checksum contribution: digits of price then qty, without leading zeros."""
    return _digits(price_text) + _digits(qty_text)


def _levels(data: Mapping[str, Any], key: str) -> tuple[BookLevel, ...]:
    raw = data.get(key, ())
    if not isinstance(raw, list):
        raise _Bad(f"{key} is not a list")
    out = []
    inf = math.inf
    for lv in raw:
        # Hot path (every book message): the checks of _pos/_nonneg, inlined.
        try:
            pt = lv["price"]
            qt = lv["qty"]
        except (TypeError, KeyError):
            raise _Bad(f"{key} holds {lv!r}, not a level with price and qty") from None
        if type(pt) is not _Number:
            pt = _exact(pt, "price")
        if type(qt) is not _Number:
            qt = _exact(qt, "qty")
        price = float(pt)
        qty = float(qt)
        if not (0.0 < price < inf) or not (0.0 <= qty < inf):
            raise _Bad(f"level price={pt} qty={qt} out of range")
        token = (pt.replace(".", "").lstrip("0") + qt.replace(".", "").lstrip("0")) if qty else ""
        out.append(BookLevel(price, qty, pt, qt, token))
    return tuple(out)


def _exact(v: object, key: str) -> str:
    """An integer literal's text (``"qty": 0``); anything else is malformed."""
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    raise _Bad(f"{key}={v!r} is not a number")


# --------------------------------------------------------------------------------------------
# Channels
# --------------------------------------------------------------------------------------------


def _book(d: Mapping[str, Any]) -> BookData:
    checksum = _int(d, "checksum")
    if checksum > 0xFFFFFFFF:
        raise _Bad(f"checksum={checksum} is not a CRC32")
    return BookData(
        _str(d, "symbol"),
        _levels(d, "bids"),
        _levels(d, "asks"),
        checksum,
        _time(d, "timestamp", required=False),
    )


def _trade(d: Mapping[str, Any]) -> Trade:
    side = d.get("side")
    if side not in ("buy", "sell"):
        raise _Bad(f"side={side!r} is neither 'buy' nor 'sell'")
    qty = _pos(d, "qty")
    ord_type = d.get("ord_type", "market")
    return Trade(
        _str(d, "symbol"),
        1 if side == "buy" else -1,
        _pos(d, "price"),
        qty,
        _int(d, "trade_id"),
        _time(d, "timestamp"),
        ord_type if isinstance(ord_type, str) else "market",
    )


def _candle(d: Mapping[str, Any]) -> Candle:
    o, h, lo, c = _pos(d, "open"), _pos(d, "high"), _pos(d, "low"), _pos(d, "close")
    if not (lo <= min(o, c) and max(o, c) <= h):
        raise _Bad(f"inconsistent candle o={o} h={h} l={lo} c={c}")
    interval = _int(d, "interval")
    if interval == 0:
        raise _Bad("interval=0")
    vwap = d.get("vwap")
    trades = d.get("trades")
    return Candle(
        _str(d, "symbol"),
        _time(d, "interval_begin"),
        interval,
        o,
        h,
        lo,
        c,
        _nonneg(d, "volume"),
        _num(d, "vwap") if vwap is not None else c,
        trades if isinstance(trades, int) and not isinstance(trades, bool) else 0,
    )


def _ticker(d: Mapping[str, Any]) -> Ticker:
    bid, ask = _pos(d, "bid"), _pos(d, "ask")
    if bid > ask:
        raise _Bad(f"crossed ticker bid={bid} > ask={ask}")
    return Ticker(
        _str(d, "symbol"),
        bid,
        _nonneg(d, "bid_qty"),
        ask,
        _nonneg(d, "ask_qty"),
        _pos(d, "last"),
        _nonneg(d, "volume") if "volume" in d else 0.0,
        _time(d, "timestamp", required=False),
    )


_PARSERS: dict[str, tuple[Any, Any]] = {
    "book": (_book, BookMessage),
    "trade": (_trade, TradeMessage),
    "ohlc": (_candle, OhlcMessage),
    "ticker": (_ticker, TickerMessage),
}


def _market(channel: str, msg: Mapping[str, Any]) -> Market | Rejected:
    kind = msg.get("type")
    if kind not in ("snapshot", "update"):
        return Rejected(RejectReason.UNKNOWN_TYPE, f"type={kind!r}", channel)
    data = msg.get("data")
    if not isinstance(data, list):
        return Rejected(RejectReason.MALFORMED, "data is not a list", channel)
    parse, kind_cls = _PARSERS[channel]
    try:
        items = tuple(parse(d) if isinstance(d, dict) else _not_object(d) for d in data)
    except _Bad as exc:
        return Rejected(RejectReason.MALFORMED, str(exc), channel)
    result: Market = kind_cls(kind == "snapshot", items)
    return result


def _not_object(d: object) -> Any:
    raise _Bad(f"data holds {d!r}, not an object")


def _method(method: object, msg: Mapping[str, Any]) -> Message:
    req_id = msg.get("req_id")
    rid = req_id if isinstance(req_id, int) and not isinstance(req_id, bool) else None
    if method == "pong":
        return Pong(rid)
    if method in ("subscribe", "unsubscribe"):
        result = msg.get("result")
        result = result if isinstance(result, dict) else {}
        success = msg.get("success") is True
        channel = result.get("channel", "")
        symbol = result.get("symbol", msg.get("symbol", ""))
        error = msg.get("error", "")
        return Ack(
            str(method),
            success,
            channel if isinstance(channel, str) else "",
            symbol if isinstance(symbol, str) else "",
            error if isinstance(error, str) else "",
            rid,
        )
    return Rejected(RejectReason.UNKNOWN_METHOD, f"method={method!r}")


def parse_message(raw: str | bytes) -> Message:
    """Decode and validate one WebSocket text frame.

    Returns:
        A :class:`Market` message, a control message (:class:`Heartbeat`, :class:`Status`,
        :class:`Ack`, :class:`Pong`), or :class:`Rejected` naming why it cannot be used.
    A message is used whole or not at all: one bad item rejects the message.
    """
    try:
        msg = json.loads(raw, parse_float=_Number)
    except (ValueError, TypeError) as exc:  # JSONDecodeError and bad UTF-8 are ValueErrors
        return Rejected(RejectReason.MALFORMED_JSON, f"{type(exc).__name__}: {exc}"[:200])
    if not isinstance(msg, dict):
        return Rejected(RejectReason.MALFORMED_JSON, f"top level is {type(msg).__name__}")
    channel = msg.get("channel")
    if channel is None:
        method = msg.get("method")
        if method is None:
            return Rejected(RejectReason.MALFORMED, "neither channel nor method")
        return _method(method, msg)
    if channel in _PARSERS:
        return _market(channel, msg)
    if channel == "heartbeat":
        return Heartbeat()
    if channel == "status":
        data = msg.get("data")
        first = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
        cid = first.get("connection_id")
        return Status(
            str(first.get("system", "")),
            str(first.get("version", "")),
            cid if isinstance(cid, int) else None,
        )
    return Rejected(RejectReason.UNKNOWN_CHANNEL, f"channel={channel!r}", str(channel))
