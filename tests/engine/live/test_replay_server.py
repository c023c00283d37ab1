"""The replay server speaks Kraken v2: status, acks, snapshot then updates, errors, heartbeats."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from papertape.engine.feeds.kraken.book import OrderBook
from papertape.engine.feeds.kraken.client import END_OF_REPLAY
from papertape.engine.feeds.kraken.protocol import (
    BookMessage,
    OhlcMessage,
    parse_message,
    subscribe_request,
)
from tests.engine.live.conftest import SYMBOL, alt_tape, run, serving


def dial(url: str) -> Any:
    """A client connection that does not linger on close (the server may still be sending)."""
    return connect(url, close_timeout=0.2)


async def recv(ws: ClientConnection, timeout: float = 5.0) -> dict[str, Any]:
    return json.loads(await recv_text(ws, timeout))  # type: ignore[no-any-return]


async def recv_text(ws: ClientConnection, timeout: float = 5.0) -> str:
    text = await asyncio.wait_for(ws.recv(), timeout)
    assert isinstance(text, str)
    return text


async def subscribe_all(ws: ClientConnection, symbol: str = SYMBOL) -> None:
    await ws.send(subscribe_request("book", [symbol], 1, depth=10))
    await ws.send(subscribe_request("trade", [symbol], 2))
    await ws.send(subscribe_request("ohlc", [symbol], 3, interval=1))
    await ws.send(subscribe_request("ticker", [symbol], 4))


def test_subscribe_is_acknowledged_then_snapshot_then_updates() -> None:
    async def go() -> None:
        async with serving(alt_tape(bars=20)) as server, dial(server.url) as ws:
            status = await recv(ws)
            assert status["channel"] == "status" and status["data"][0]["system"] == "online"
            await subscribe_all(ws)
            texts = [await recv_text(ws) for _ in range(8)]
            frames = [json.loads(t) for t in texts]
            acks = [f for f in frames if f.get("method") == "subscribe"]
            snaps = [t for t, f in zip(texts, frames, strict=True) if f.get("type") == "snapshot"]
            assert [a["result"]["channel"] for a in acks] == ["book", "trade", "ohlc", "ticker"]
            assert all(a["success"] and a["result"]["symbol"] == SYMBOL for a in acks)
            assert [a["req_id"] for a in acks] == [1, 2, 3, 4]
            assert acks[0]["result"]["depth"] == 10 and acks[2]["result"]["interval"] == 1
            # each ack is followed by its snapshot
            assert [f.get("channel") or f["method"] for f in frames] == [
                "subscribe",
                "book",
                "subscribe",
                "trade",
                "subscribe",
                "ohlc",
                "subscribe",
                "ticker",
            ]
            book_snap = parse_message(snaps[0])  # the wire text: checksums cover its digits
            assert isinstance(book_snap, BookMessage)
            (data,) = book_snap.items
            book = OrderBook(SYMBOL)
            book.apply_snapshot(data.bids, data.asks)
            assert book.checksum() == data.checksum and len(data.bids) == 10
            ohlc = parse_message(snaps[2])
            assert isinstance(ohlc, OhlcMessage) and len(ohlc.items) == 30  # the history
            update = await recv(ws)
            assert update["type"] == "update"
            assert update["channel"] in ("book", "trade", "ohlc", "ticker")

    run(go())


def test_subscription_errors_are_krakens_error_acks() -> None:
    async def go() -> None:
        async with serving(alt_tape(bars=5)) as server, dial(server.url) as ws:
            await recv(ws)
            requests = [
                subscribe_request("level3", [SYMBOL], 1),
                subscribe_request("book", ["NOPE/USD"], 2),
                subscribe_request("book", [SYMBOL], 3, depth=7),
                subscribe_request("ohlc", [SYMBOL], 4, interval=5),
                json.dumps(
                    {
                        "method": "subscribe",
                        "params": {"channel": "trade", "symbol": SYMBOL},
                        "req_id": 5,
                    }
                ),
                "not json",
                json.dumps({"method": "teleport", "req_id": 6}),
            ]
            for r in requests:
                await ws.send(r)
            answers = [await recv(ws) for _ in requests]
            assert all(a["success"] is False and a["error"] for a in answers)
            assert [a.get("req_id") for a in answers] == [1, 2, 3, 4, 5, None, 6]
            assert answers[1]["symbol"] == "NOPE/USD"
            assert "depth" in answers[2]["error"].lower()
            await ws.send(subscribe_request("ticker", [SYMBOL], 7))
            ack = await recv(ws)
            await recv(ws)  # its snapshot
            await ws.send(subscribe_request("ticker", [SYMBOL], 8))
            again = await recv(ws)
            assert ack["success"] and not again["success"] and "Already" in again["error"]

    run(go())


def test_ping_pong_unsubscribe_and_heartbeats() -> None:
    async def go() -> None:
        async with (
            serving(alt_tape(bars=5), speed=1e-6, heartbeat_s=0.2) as server,
            dial(server.url) as ws,
        ):
            await recv(ws)
            await ws.send(json.dumps({"method": "ping", "req_id": 42}))
            pong = await recv(ws)
            assert pong["method"] == "pong" and pong["req_id"] == 42
            await subscribe_all(ws)
            for _ in range(8):
                await recv(ws)
            # the tape's second print is days away at this speed: idle, so heartbeats come
            frames = [await recv(ws, timeout=2.0) for _ in range(5)]
            assert [f["channel"] for f in frames][:4] == ["trade", "ohlc", "book", "ticker"]
            assert frames[4] == {"channel": "heartbeat"}
            await ws.send(
                json.dumps(
                    {
                        "method": "unsubscribe",
                        "params": {"channel": "book", "symbol": [SYMBOL], "depth": 10},
                        "req_id": 9,
                    }
                )
            )
            ack = await recv(ws)
            while ack.get("channel") == "heartbeat":
                ack = await recv(ws)
            assert ack["method"] == "unsubscribe" and ack["success"]
            await ws.send(
                json.dumps(
                    {
                        "method": "unsubscribe",
                        "params": {"channel": "book", "symbol": [SYMBOL]},
                        "req_id": 10,
                    }
                )
            )
            nack = await recv(ws)
            while nack.get("channel") == "heartbeat":
                nack = await recv(ws)
            assert nack["success"] is False

    run(go())


def test_the_tape_waits_for_a_subscribed_client_and_ends_with_end_of_replay() -> None:
    async def go() -> None:
        async with serving(alt_tape(bars=10)) as server:
            await asyncio.sleep(0.3)
            assert server.stats.played == 0  # nobody listens: nothing is lost
            async with dial(server.url) as ws:
                await subscribe_all(ws)
                seen = 0
                try:
                    while True:
                        await recv(ws)
                        seen += 1
                except ConnectionClosed:
                    pass
                assert ws.close_code == 1000 and ws.close_reason == END_OF_REPLAY
            assert server.stats.played == 10 * 4 * 4  # 4 prints a bar, 4 channels each
            assert seen >= server.stats.played
            assert server.finished.is_set()

    run(go())


def test_realtime_tape_plays_without_listeners() -> None:
    async def go() -> None:
        async with serving(alt_tape(bars=10), realtime=True) as server:
            await asyncio.wait_for(server.finished.wait(), 5.0)
            assert server.stats.played == 160 and server.stats.sent == 0

    run(go())
