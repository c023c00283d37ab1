"""Parsing Kraken v2 frames: the shipped examples, and every way a frame is refused."""

from __future__ import annotations

import json

import pytest

from papertape.engine.feeds.kraken.protocol import (
    Ack,
    BookMessage,
    Heartbeat,
    OhlcMessage,
    Pong,
    Rejected,
    RejectReason,
    Status,
    TickerMessage,
    TradeMessage,
    format_time,
    parse_message,
    parse_time,
    subscribe_request,
)
from tests.engine.live.conftest import kraken_json, kraken_text


def test_shipped_messages_parse_into_typed_values() -> None:
    trades = parse_message(kraken_text("trade_update"))
    assert isinstance(trades, TradeMessage) and not trades.snapshot
    assert [(t.side, t.price, t.qty, t.trade_id) for t in trades.items] == [
        (1, 105944.2, 0.00027625, 10218208),
        (-1, 105910.5, 0.0001246, 10218209),
    ]
    assert trades.items[0].time == parse_time("2023-10-06T17:35:55.440295Z")

    ohlc = parse_message(kraken_text("ohlc_update"))
    assert isinstance(ohlc, OhlcMessage)
    (c,) = ohlc.items
    assert (c.open, c.high, c.low, c.close, c.interval_min, c.trades) == (
        106038.2,
        106044.3,
        106038.1,
        106040.1,
        1,
        12,
    )
    assert c.begin == parse_time("2023-10-04T16:25:00Z")

    ticker = parse_message(kraken_text("ticker_snapshot"))
    assert isinstance(ticker, TickerMessage) and ticker.snapshot
    assert (ticker.items[0].bid, ticker.items[0].ask) == (105944.2, 105944.3)

    book = parse_message(kraken_text("book_update"))
    assert isinstance(book, BookMessage)
    (bid,) = book.items[0].bids
    assert (bid.price_text, bid.qty_text) == ("105944.20", "0.250")  # wire text kept

    ack = parse_message(kraken_text("subscribe_response"))
    assert ack == Ack("subscribe", True, "ticker", "BTC/USD", "", 1)


def test_control_messages() -> None:
    assert parse_message('{"channel":"heartbeat"}') == Heartbeat()
    assert parse_message('{"method":"pong","req_id":7}') == Pong(7)
    status = parse_message(
        '{"channel":"status","type":"update","data":[{"system":"online",'
        '"version":"2.0.0","connection_id":5}]}'
    )
    assert status == Status("online", "2.0.0", 5)
    refused = parse_message(
        '{"method":"subscribe","success":false,"error":"Currency pair not '
        'supported","symbol":"NOPE/USD","req_id":3}'
    )
    assert refused == Ack("subscribe", False, "", "NOPE/USD", "Currency pair not supported", 3)


def _trade(**over: object) -> str:
    d = kraken_json("trade_update")
    d["data"][0].update(over)
    return json.dumps(d)


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ('{"channel":"trade","type":"update","data":[{', RejectReason.MALFORMED_JSON),
        (b"\xff\xfe", RejectReason.MALFORMED_JSON),
        ("[1, 2]", RejectReason.MALFORMED_JSON),
        ('{"foo": 1}', RejectReason.MALFORMED),
        ('{"channel":"gossip","type":"update","data":[]}', RejectReason.UNKNOWN_CHANNEL),
        ('{"method":"gossip"}', RejectReason.UNKNOWN_METHOD),
        ('{"channel":"ohlc","type":"delta","data":[]}', RejectReason.UNKNOWN_TYPE),
        ('{"channel":"ohlc","type":"update","data":{}}', RejectReason.MALFORMED),
        (_trade(price=-1.0), RejectReason.MALFORMED),
        (_trade(price="105944.2"), RejectReason.MALFORMED),  # a string is not a number
        (_trade(qty=0.0), RejectReason.MALFORMED),
        (_trade(side="hold"), RejectReason.MALFORMED),
        (_trade(trade_id=-5), RejectReason.MALFORMED),
        (_trade(timestamp="yesterday"), RejectReason.MALFORMED),
        (_trade(symbol=""), RejectReason.MALFORMED),
    ],
)
def test_bad_frames_are_rejected_with_a_reason(frame: str | bytes, reason: RejectReason) -> None:
    out = parse_message(frame)
    assert isinstance(out, Rejected)
    assert out.reason is reason
    assert out.detail


def test_one_bad_item_rejects_the_whole_message() -> None:
    d = kraken_json("trade_update")
    d["data"][1]["price"] = 0.0
    out = parse_message(json.dumps(d))
    assert isinstance(out, Rejected) and "price" in out.detail


def test_inconsistent_candle_and_crossed_ticker_are_malformed() -> None:
    d = kraken_json("ohlc_update")
    d["data"][0]["high"] = d["data"][0]["low"] - 1.0
    assert isinstance(parse_message(json.dumps(d)), Rejected)
    t = kraken_json("ticker_snapshot")
    t["data"][0]["bid"] = t["data"][0]["ask"] + 1.0
    out = parse_message(json.dumps(t))
    assert isinstance(out, Rejected) and "crossed" in out.detail


def test_book_levels_must_be_numbers_in_range() -> None:
    bad = (
        '{"channel":"book","type":"update","data":[{"symbol":"X","bids":[{"price":%s,'
        '"qty":1}],"asks":[],"checksum":0}]}'
    )
    for price in ('"abc"', "1e999", "-3", "null"):
        assert isinstance(parse_message(bad % price), Rejected), price
    too_big = (
        '{"channel":"book","type":"update","data":[{"symbol":"X","bids":[],"asks":[],'
        '"checksum":4294967296}]}'
    )
    assert isinstance(parse_message(too_big), Rejected)


def test_times_round_trip_to_the_nanosecond() -> None:
    assert parse_time("1970-01-01T00:00:01Z") == 10**9
    assert parse_time("2023-10-04T16:25:00.000000001Z") == parse_time("2023-10-04T16:25:00Z") + 1
    assert parse_time("2023-10-04T16:25:00.5+00:00") == parse_time("2023-10-04T16:25:00.5Z")
    t = parse_time("2023-10-06T17:35:55.440295Z")
    assert format_time(t) == "2023-10-06T17:35:55.440295Z"
    for bad in ("2023-10-06", "2023-10-06T17:35:55", "2023-13-06T17:35:55Z", 12):
        with pytest.raises(ValueError):
            parse_time(bad)


def test_subscribe_request_is_krakens_v2_shape() -> None:
    req = json.loads(subscribe_request("book", ["BTC/USD", "ETH/USD"], 4, depth=10))
    assert req == {
        "method": "subscribe",
        "req_id": 4,
        "params": {"channel": "book", "symbol": ["BTC/USD", "ETH/USD"], "depth": 10},
    }
