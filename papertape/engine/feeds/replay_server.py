"""A local WebSocket server that speaks Kraken's v2 market-data protocol from recorded data.

Demos, tests and offline development run the real client code path against it
(``papertape feed serve``). It answers ``subscribe``/``unsubscribe`` with Kraken's
acknowledgements, sends each subscription's snapshot and then the tape's updates, sends
``status`` on connect, a ``heartbeat`` on connections idle for a second, and ``pong`` to ``ping``.

**The tape.** One tape plays for every client (like an exchange, all clients see one market),
paced at ``speed`` × the recorded time (0: as fast as the clients read). By default the tape
*waits for its audience*: it advances only while at least one client is ready, meaning it has
subscribed every channel the tape carries for its symbols (or has been quiet for
``settle_s`` after a partial subscription). A client that drops and resubscribes therefore
misses nothing, and a replayed session is repeatable through disconnects. ``realtime`` keeps
the tape running without listeners instead, as a real exchange does: a reconnecting client
must then backfill from snapshots and will see gaps.

**Faults on demand** (for resilience tests and demos): drop each connection after
``drop_every`` messages or ``drop_interval_s`` seconds (a clean close with code 1012, or an
abort), stall everything (no heartbeats either) for ``stall_s`` every ``stall_every`` messages,
corrupt every ``corrupt_book_every``-th book checksum, and inject a malformed, unknown,
duplicate or out-of-order message after every ``garbage_every``-th message.

When the tape ends, clients are closed with code 1000 and the reason ``"end of replay"``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from papertape.engine.errors import FeedError
from papertape.engine.feeds.kraken.book import VALID_DEPTHS
from papertape.engine.feeds.kraken.client import END_OF_REPLAY
from papertape.engine.feeds.kraken.market import ReplayMarket
from papertape.engine.feeds.kraken.protocol import format_time
from papertape.engine.feeds.kraken.tape import Tape, TapeMessage, render_candles, render_trades

__all__ = ["ReplayOptions", "ReplayServer", "ReplayStats"]

log = logging.getLogger("papertape.replay_server")
_CHECKSUM = re.compile(r'"checksum":(\d+)')


@dataclass(frozen=True, slots=True)
class ReplayOptions:
    """How the tape plays and which faults are injected (see the module docstring)."""

    speed: float = 1.0
    realtime: bool = False
    heartbeat_s: float = 1.0
    settle_s: float = 0.25
    drop_every: int = 0
    drop_interval_s: float = 0.0
    drop_mode: Literal["close", "abort"] = "close"
    stall_every: int = 0
    stall_s: float = 0.0
    corrupt_book_every: int = 0
    garbage_every: int = 0


@dataclass(slots=True)
class ReplayStats:
    """What the server did."""

    played: int = 0  # tape messages
    sent: int = 0  # frames sent to clients (all kinds)
    connections: int = 0
    drops: int = 0
    stalls: int = 0
    corrupted: int = 0
    garbage: int = 0


@dataclass(eq=False, slots=True)
class _Client:
    ws: ServerConnection
    id: int
    connected_at: float
    subs: set[tuple[str, str]] = field(default_factory=set)
    sent: int = 0
    last_send: float = 0.0
    last_subscribe: float = 0.0
    closing: bool = False


def _quiet(task: asyncio.Future[None]) -> None:
    """Retrieve a background close's outcome so a failure is not reported as unhandled."""
    if not task.cancelled():
        task.exception()


def _now_text() -> str:
    return format_time(time.time_ns())


class ReplayServer:
    """Serves one :class:`~engine.feeds.kraken.tape.Tape` on a local WebSocket port."""

    def __init__(
        self, tape: Tape, options: ReplayOptions | None = None, price_decimals: int = 8
    ) -> None:
        self.tape = tape
        self.options = options or ReplayOptions()
        self.market = ReplayMarket(tape.symbols, tape.depth, price_decimals=price_decimals)
        self.stats = ReplayStats()
        self.finished = asyncio.Event()
        self.host = "127.0.0.1"
        self.port = 0
        self._server: Server | None = None
        self._clients: set[_Client] = set()
        self._audience = asyncio.Event()
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._quiet_until = 0.0
        self._books = 0
        self._garbage_kind = 0

    @property
    def url(self) -> str:
        """``ws://host:port`` of the running server."""
        return f"ws://{self.host}:{self.port}"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on ``host:port`` (0: any free port) and start the tape."""
        for m in self.tape.prelude:
            self.market.apply(m)
        try:
            self._server = await serve(self._handler, host, port, compression=None, max_size=2**20)
        except OSError as exc:
            raise FeedError(f"cannot listen on {host}:{port}: {exc}") from exc
        sock = next(iter(self._server.sockets))
        self.host, self.port = host, int(sock.getsockname()[1])
        self._tasks = [asyncio.create_task(self._play()), asyncio.create_task(self._heartbeats())]
        log.info(
            "replaying %s (%s) on %s", self.tape.source, ", ".join(self.tape.symbols), self.url
        )

    async def close(self) -> None:
        """Stop the tape and close every connection."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def __aenter__(self) -> ReplayServer:
        if self._server is None:
            await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ---------------------------------------------------------------------------------------
    # connections and requests
    # ---------------------------------------------------------------------------------------

    async def _handler(self, ws: ServerConnection) -> None:
        self.stats.connections += 1
        client = _Client(ws, self.stats.connections, time.monotonic())
        self._clients.add(client)
        log.info("client %d connected from %s", client.id, ws.remote_address)
        try:
            await self._send(
                client,
                json.dumps(
                    {
                        "channel": "status",
                        "type": "update",
                        "data": [
                            {
                                "version": "2.0.0",
                                "system": "online",
                                "api_version": "v2",
                                "connection_id": client.id,
                            }
                        ],
                    }
                ),
            )
            async for raw in ws:
                await self._request(client, raw)
        except ConnectionClosed:
            pass
        finally:
            client.closing = True
            self._clients.discard(client)
            self._update_audience()
            log.info("client %d disconnected", client.id)

    async def _send(self, client: _Client, text: str) -> bool:
        try:
            await client.ws.send(text)
        except ConnectionClosed:
            client.closing = True
            return False
        client.last_send = time.monotonic()
        self.stats.sent += 1
        return True

    async def _request(self, client: _Client, raw: str | bytes) -> None:
        time_in = _now_text()
        try:
            req = json.loads(raw)
        except ValueError:
            req = None
        if not isinstance(req, dict):
            await self._send(
                client,
                json.dumps(
                    {
                        "error": "Malformed request",
                        "success": False,
                        "time_in": time_in,
                        "time_out": _now_text(),
                    }
                ),
            )
            return
        method = req.get("method")
        req_id = req.get("req_id")
        if method == "ping":
            await self._send(
                client,
                json.dumps(
                    {
                        "method": "pong",
                        "req_id": req_id,
                        "time_in": time_in,
                        "time_out": _now_text(),
                    }
                ),
            )
        elif method in ("subscribe", "unsubscribe"):
            params = req.get("params")
            await self._subscription(
                client, str(method), params if isinstance(params, dict) else {}, req_id, time_in
            )
        else:
            await self._send(
                client,
                json.dumps(
                    {
                        "error": f"Method {method!r} not supported",
                        "method": method,
                        "success": False,
                        "req_id": req_id,
                        "time_in": time_in,
                        "time_out": _now_text(),
                    }
                ),
            )

    async def _subscription(
        self, client: _Client, method: str, params: dict[str, Any], req_id: Any, time_in: str
    ) -> None:
        channel = params.get("channel")
        symbols = params.get("symbol")

        async def error(text: str, symbol: str | None = None) -> None:
            body: dict[str, Any] = {"error": text, "method": method, "success": False}
            if symbol is not None:
                body["symbol"] = symbol
            body.update({"req_id": req_id, "time_in": time_in, "time_out": _now_text()})
            await self._send(client, json.dumps(body))

        if channel not in self.tape.channels:
            await error(
                f"Channel {channel!r} not available in this replay "
                f"({', '.join(self.tape.channels)})"
            )
            return
        if not isinstance(symbols, list) or not all(isinstance(s, str) for s in symbols):
            await error("params.symbol must be a list of symbols")
            return
        depth = params.get("depth", 10)
        if channel == "book" and depth not in VALID_DEPTHS:
            await error(f"Invalid depth {depth!r}; one of {list(VALID_DEPTHS)}")
            return
        if (
            channel == "ohlc"
            and method == "subscribe"
            and (params.get("interval") != self.tape.interval_min)
        ):
            await error(
                f"Invalid interval {params.get('interval')!r}; this replay has "
                f"{self.tape.interval_min}"
            )
            return
        extra: dict[str, Any] = (
            {"depth": depth}
            if channel == "book"
            else ({"interval": self.tape.interval_min} if channel == "ohlc" else {})
        )
        want_snapshot = params.get("snapshot", True) is not False
        for sym in symbols:
            key = (channel, sym)
            if sym not in self.tape.symbols:
                await error("Currency pair not supported", sym)
                continue
            if method == "subscribe" and key in client.subs:
                await error("Already subscribed", sym)
                continue
            if method == "unsubscribe" and key not in client.subs:
                await error("Subscription Not Found", sym)
                continue
            result = {"channel": channel, "symbol": sym, **extra}
            if method == "subscribe":
                result["snapshot"] = want_snapshot
            ack = json.dumps(
                {
                    "method": method,
                    "result": result,
                    "success": True,
                    "time_in": time_in,
                    "time_out": _now_text(),
                    "req_id": req_id,
                }
            )
            async with self._lock:  # ack + snapshot are atomic with respect to the tape
                if method == "subscribe":
                    client.subs.add(key)
                else:
                    client.subs.discard(key)
                await self._send(client, ack)
                if method == "subscribe" and want_snapshot:
                    await self._send(client, self.market.snapshot(channel, sym, int(depth)))
        client.last_subscribe = time.monotonic()
        self._update_audience()
        asyncio.get_running_loop().call_later(self.options.settle_s + 0.01, self._update_audience)

    def _ready(self, client: _Client) -> bool:
        if client.closing or not client.subs:
            return False
        syms = {s for _, s in client.subs}
        if all((c, s) in client.subs for c in self.tape.channels for s in syms):
            return True
        return time.monotonic() - client.last_subscribe >= self.options.settle_s

    def _update_audience(self) -> None:
        ready = [c for c in self._clients if self._ready(c)]
        if ready:
            self._audience.set()
        else:
            self._audience.clear()
        if self.finished.is_set():
            for c in ready:
                self._drop(c, "close", 1000, END_OF_REPLAY)

    def _drop(
        self,
        client: _Client,
        mode: str,
        code: int = 1012,
        reason: str = "forced disconnect (replay server)",
    ) -> None:
        if client.closing:
            return
        client.closing = True
        self._update_audience()
        if mode == "abort":
            client.ws.transport.abort()
        else:
            task = asyncio.ensure_future(client.ws.close(code, reason))
            task.add_done_callback(_quiet)

    # ---------------------------------------------------------------------------------------
    # the tape
    # ---------------------------------------------------------------------------------------

    async def _play(self) -> None:
        opts = self.options
        stream0: int | None = None
        wall0 = 0.0
        n = 0
        for msg in self.tape.messages():
            while True:
                if not opts.realtime and not self._audience.is_set():
                    paused = time.monotonic()
                    await self._audience.wait()
                    wall0 += time.monotonic() - paused
                if opts.speed > 0:
                    if stream0 is None:
                        stream0, wall0 = msg.time, time.monotonic()
                    delay = wall0 + (msg.time - stream0) / 1e9 / opts.speed - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                        continue  # the audience may have left meanwhile
                break
            n += 1
            async with self._lock:
                self.market.apply(msg)
                self.stats.played += 1
                await self._fan_out(msg, n)
            if opts.stall_every and n % opts.stall_every == 0:
                self.stats.stalls += 1
                self._quiet_until = time.monotonic() + opts.stall_s
                await asyncio.sleep(opts.stall_s)
            elif opts.speed <= 0 and n % 64 == 0:
                await asyncio.sleep(0)  # let clients and requests run
        self.finished.set()
        log.info("end of the tape after %d messages", n)
        self._update_audience()
        for c in list(self._clients):
            self._drop(c, "close", 1000, END_OF_REPLAY)

    async def _fan_out(self, msg: TapeMessage, n: int) -> None:
        opts = self.options
        key = (msg.channel, msg.symbol)
        text = msg.text
        if msg.channel == "book" and opts.corrupt_book_every:
            self._books += 1
            if self._books % opts.corrupt_book_every == 0:
                self.stats.corrupted += 1
                text = _CHECKSUM.sub(lambda m: f'"checksum":{int(m.group(1)) ^ 1}', text, 1)
        now = time.monotonic()
        for client in list(self._clients):
            if client.closing or key not in client.subs:
                continue
            if not await self._send(client, text):
                continue
            client.sent += 1
            if (opts.drop_every and client.sent >= opts.drop_every) or (
                opts.drop_interval_s and now - client.connected_at >= opts.drop_interval_s
            ):
                self.stats.drops += 1
                log.info("forcing client %d off after %d messages", client.id, client.sent)
                self._drop(client, opts.drop_mode)
        if opts.garbage_every and n % opts.garbage_every == 0:
            junk = self._garbage(msg.symbol)
            for client in list(self._clients):
                if not client.closing and client.subs and await self._send(client, junk):
                    self.stats.garbage += 1

    def _garbage(self, symbol: str) -> str:
        """The next of a rotation of messages a client must refuse."""
        for _ in range(8):
            kind = self._garbage_kind % 8
            self._garbage_kind += 1
            if kind == 0:
                return '{"channel":"trade","type":"update","data":[{'  # torn JSON
            if kind == 1:
                return '{"channel":"gossip","type":"update","data":[]}'
            if kind == 2:
                return (
                    f'{{"channel":"trade","type":"update","data":[{{"symbol":"{symbol}",'
                    f'"side":"buy","price":-1.0,"qty":1.0,"trade_id":1,'
                    f'"timestamp":"{_now_text()}"}}]}}'
                )
            if kind == 3 and (trade := self.market.last_trade(symbol)) is not None:
                return render_trades([trade], False, self.market.price_decimals)  # duplicate
            if kind == 4 and (candle := self.market.previous_candle(symbol)) is not None:
                return render_candles([candle], False)  # an interval that already closed
            if kind == 5:
                return '{"method":"gossip","req_id":0}'
            if kind == 6:
                return '{"channel":"ohlc","type":"delta","data":[]}'
            if kind == 7:
                return (
                    f'{{"channel":"book","type":"update","data":[{{"symbol":"{symbol}",'
                    f'"bids":[{{"price":"abc","qty":1}}],"asks":[],"checksum":0}}]}}'
                )
        return "{"

    async def _heartbeats(self) -> None:
        every = self.options.heartbeat_s
        while True:
            await asyncio.sleep(min(0.1, every / 2))
            now = time.monotonic()
            if now < self._quiet_until:
                continue
            for client in list(self._clients):
                if client.subs and not client.closing and now - client.last_send >= every:
                    with contextlib.suppress(ConnectionClosed):
                        await self._send(client, '{"channel":"heartbeat"}')
