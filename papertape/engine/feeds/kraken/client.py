"""The Kraken WebSocket v2 market-data client: connect, subscribe, stay connected.

:class:`KrakenFeed` subscribes ``book`` (checksummed depth), ``trade``, ``ohlc`` and ``ticker``
for its symbols and hands every frame to a :class:`~engine.feeds.kraken.stream.StreamProcessor`
(which turns it into bars, trades and book changes for the engine). Around that it keeps the
connection honest:

* **Reconnect** with exponential backoff and jitter (half the capped delay plus a random half)
  after any loss; the delay starts over once a connection delivered all its snapshots.
* **Resubscribe** everything on each connection; the snapshots that follow backfill missed
  candles and trades (deduplicated by interval and trade id).
* **Heartbeats**: Kraken sends one a second when idle. A watchdog probes a silent connection
  with an application ``ping`` and drops it after ``heartbeat_timeout_s`` of silence; it also
  reports each symbol going stale and fresh again.
* A book failing its checksum is unsubscribed and subscribed again for a new snapshot.

Lower-level failures (``OSError``, websockets' exceptions) are translated here; what escapes
:meth:`KrakenFeed.run` is a :class:`~engine.errors.FeedError` (refused subscription, or too
many failed reconnects).

The replay server (``papertape feed serve``) ends its tape by closing with code 1000 and the
reason ``"end of replay"``; the feed then stops instead of reconnecting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from papertape.engine.errors import FeedError
from papertape.engine.events import FeedConnected, FeedDisconnected, FeedFresh, FeedStale
from papertape.engine.feeds.kraken.protocol import (
    CHANNELS,
    ping_request,
    subscribe_request,
    unsubscribe_request,
)
from papertape.engine.feeds.kraken.stream import FeedHandler, FeedStats, StreamProcessor

if TYPE_CHECKING:
    from papertape.engine.events import Event

__all__ = ["END_OF_REPLAY", "KRAKEN_WS_URL", "FeedOptions", "KrakenFeed", "backoff_delay"]

log = logging.getLogger("papertape.feed")
KRAKEN_WS_URL = "wss://ws.kraken.com/v2"
END_OF_REPLAY = "end of replay"
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True, slots=True)
class FeedOptions:
    """How to connect and what to subscribe.

    Attributes:
        symbols: Kraken v2 symbols (``"BTC/USD"``).
        url: WebSocket endpoint.
        depth: Book depth (10, 25, 100, 500 or 1000).
        interval_min: OHLC interval in minutes (1 = one-minute bars).
        staleness_s: A symbol is stale after this long without any message.
        heartbeat_timeout_s: A connection silent this long is dropped and reopened.
        reconnect_initial_s: First backoff delay.
        reconnect_max_s: Backoff cap.
        max_failures: Give up after this many consecutive failed connections (0: never).
        open_timeout_s: Limit on opening a connection.
        seed: Seed of the backoff jitter (None: random).
    """

    symbols: tuple[str, ...]
    url: str = KRAKEN_WS_URL
    depth: int = 10
    interval_min: int = 1
    staleness_s: float = 10.0
    heartbeat_timeout_s: float = 10.0
    reconnect_initial_s: float = 0.5
    reconnect_max_s: float = 30.0
    max_failures: int = 0
    open_timeout_s: float = 10.0
    seed: int | None = None

    def channel_params(self, channel: str) -> dict[str, Any]:
        """Subscription parameters of ``channel`` (besides symbols)."""
        if channel == "book":
            return {"depth": self.depth, "snapshot": True}
        if channel == "ohlc":
            return {"interval": self.interval_min, "snapshot": True}
        return {"snapshot": True}


def backoff_delay(attempt: int, initial: float, maximum: float, rng: random.Random) -> float:
    """Delay before reconnect ``attempt`` (1, 2, ...): ``cap/2 + U(0, cap/2)``, doubling."""
    cap = min(maximum, initial * 2.0 ** max(attempt - 1, 0))
    return cap / 2.0 + rng.random() * cap / 2.0


def _ignore(_: Any) -> None:
    return None


def _nothing() -> None:
    return None


class KrakenFeed:
    """One market-data connection (kept alive) for several symbols."""

    def __init__(
        self,
        options: FeedOptions,
        handler: FeedHandler,
        emit: Callable[[Event], None] = _ignore,
        tap: Callable[[str | bytes], None] | None = None,
        settle: Callable[[], None] = _nothing,
    ) -> None:
        if not options.symbols:
            raise FeedError("no symbols to subscribe")
        self.options = options
        self.emit = emit
        self.tap = tap
        self.settle = settle  # ends a tick: events emitted while processing become durable
        self.processor = StreamProcessor(
            options.symbols,
            handler,
            interval_min=options.interval_min,
            depth=options.depth,
            staleness_s=options.staleness_s,
            emit=emit,
            resync=self._request_resync,
        )
        self.ended = False  # the replay server finished its tape
        self.latency: array[int] | None = None  # per-message processing ns, when measuring
        self.bar_latency: array[int] | None = None  # the same, for messages that closed a bar
        self.cpu_latency: array[int] | None = None  # thread CPU ns (wall minus preemption)
        self._ws: ClientConnection | None = None
        self._stop = asyncio.Event()
        self._fatal: FeedError | None = None
        self._req_id = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._stale: dict[str, str] = {}
        self._probed = False
        self._reporting = False  # staleness is reported once the first connection is live
        self._rng = random.Random(options.seed)

    @property
    def stats(self) -> FeedStats:
        """Counters of this feed."""
        return self.processor.stats

    def stale_reason(self, symbol: str) -> str:
        """Why ``symbol`` is stale now, or ``""``."""
        return self.processor.stale_reason(symbol)

    def measure_latency(self) -> None:
        """Record the processing time of every message from now on (for benchmarks)."""
        self.latency = array("q")
        self.bar_latency = array("q")
        self.cpu_latency = array("q")

    def stop(self) -> None:
        """Ask :meth:`run` to return soon: no message is processed after this call."""
        self._stop.set()
        ws = self._ws
        if ws is not None:
            self._spawn(ws.close(1000, "client stopping"))  # the receive loop stops reading

    # ---------------------------------------------------------------------------------------
    # the connection loop
    # ---------------------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect, subscribe and process messages until stopped or the replay ends."""
        watchdog = asyncio.create_task(self._watchdog())
        failures = 0
        try:
            while not self._stop.is_set():
                healthy, reason = await self._connection()
                if self._fatal is not None:
                    raise self._fatal
                if self.ended or self._stop.is_set():
                    break
                failures = 0 if healthy else failures + 1
                limit = self.options.max_failures
                if limit and failures >= limit:
                    raise FeedError(
                        f"{self.options.url}: {failures} connections failed in a row; "
                        f"last: {reason}"
                    )
                self.stats.reconnects += 1
                delay = backoff_delay(
                    failures + 1,
                    self.options.reconnect_initial_s,
                    self.options.reconnect_max_s,
                    self._rng,
                )
                log.warning(
                    "feed %s lost (%s); reconnecting in %.2fs", self.options.url, reason, delay
                )
                self.emit(
                    FeedDisconnected(
                        self.processor.now_ns,
                        self.options.url,
                        reason,
                        failures + 1,
                        round(delay, 3),
                    )
                )
                self.settle()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), delay)
        finally:
            watchdog.cancel()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(watchdog, *self._tasks, return_exceptions=True)

    async def _connection(self) -> tuple[bool, str]:
        """Run one connection to its end; return (delivered its snapshots, why it ended)."""
        opts = self.options
        proc = self.processor
        host = urlsplit(opts.url).hostname or ""
        try:
            ws = await connect(
                opts.url,
                open_timeout=opts.open_timeout_s,
                ping_interval=20.0,
                ping_timeout=20.0,
                close_timeout=2.0,
                max_size=2**24,
                compression=None,
                proxy=None if host in _LOOPBACK else True,
            )
        except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
            return False, f"cannot connect: {type(exc).__name__}: {exc}"
        self._ws = ws
        self.stats.connections += 1
        backfilled0 = self.stats.backfilled_bars
        proc.connection_opened(CHANNELS)
        self._probed = False
        announced = False
        try:
            for channel in CHANNELS:
                await ws.send(
                    subscribe_request(
                        channel, opts.symbols, self._next_id(), **opts.channel_params(channel)
                    )
                )
            tap = self.tap
            process = proc.process
            settle = self.settle
            lat = self.latency
            bar_lat = self.bar_latency
            cpu_lat = self.cpu_latency
            clock = time.perf_counter_ns
            cpu_clock = time.thread_time_ns
            stats = self.stats
            stopping = self._stop.is_set
            async for raw in ws:
                if stopping():
                    break  # nothing after a stop reaches the engine
                if tap is not None:
                    tap(raw)
                if lat is None:
                    process(raw)
                    settle()
                else:
                    t0 = clock()
                    c0 = cpu_clock()
                    bars = stats.bars
                    process(raw)
                    settle()
                    dt = clock() - t0
                    lat.append(dt)
                    if cpu_lat is not None:
                        cpu_lat.append(cpu_clock() - c0)
                    if stats.bars != bars and bar_lat is not None:
                        bar_lat.append(dt)
                if proc.acks:
                    self._check_acks(announced)
                if not announced and not proc.awaiting:
                    announced = self._reporting = True
                    self.emit(
                        FeedConnected(
                            proc.now_ns,
                            opts.url,
                            stats.connections,
                            stats.backfilled_bars - backfilled0,
                        )
                    )
                    settle()
            reason = (
                f"closed by server: code {ws.close_code} {ws.close_reason!r}"
                if ws.close_code is not None
                else "stopped"
            )
        except ConnectionClosed as exc:
            got = exc.rcvd
            reason = (
                f"closed by server: code {got.code} {got.reason!r}"
                if got is not None
                else f"connection lost: {exc}"
            )
        except OSError as exc:
            reason = f"connection lost: {type(exc).__name__}: {exc}"
        finally:
            self._ws = None
            proc.connection_lost()
            if ws.close_code is None:
                ws.transport.abort()
        if ws.close_code == 1000 and ws.close_reason == END_OF_REPLAY:
            self.ended = True
            log.info("feed %s: the replay server finished its tape", opts.url)
        return announced, reason

    def _check_acks(self, live: bool) -> None:
        for ack in self.processor.acks:
            if ack.success:
                continue
            if ack.method == "unsubscribe":
                continue  # a resync's unsubscribe of a book that was already gone
            st = self.processor.states.get(ack.symbol)
            if live and ack.channel == "book" and st is not None and st.resyncing:
                log.warning(
                    "book resubscription of %s refused (%s); retrying", ack.symbol, ack.error
                )
                st.resyncing = False
                self._request_resync(ack.symbol, delay=1.0)
                continue
            self._fatal = FeedError(
                f"{self.options.url} refused to {ack.method} "
                f"{ack.channel or '?'} {ack.symbol or self.options.symbols}: {ack.error}"
            )
            self.stop()
        self.processor.acks.clear()

    def _next_id(self) -> int:
        self._req_id += 1
        return self._req_id

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _request_resync(self, symbol: str, delay: float = 0.0) -> None:
        ws = self._ws
        if ws is not None:
            self.processor.states[symbol].resyncing = True
            self._spawn(self._resync(ws, symbol, delay))

    async def _resync(self, ws: ClientConnection, symbol: str, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        params = self.options.channel_params("book")
        try:
            await ws.send(
                unsubscribe_request("book", [symbol], self._next_id(), depth=self.options.depth)
            )
            await ws.send(subscribe_request("book", [symbol], self._next_id(), **params))
        except ConnectionClosed:
            pass  # the next connection subscribes afresh

    # ---------------------------------------------------------------------------------------
    # watchdog: heartbeats and staleness
    # ---------------------------------------------------------------------------------------

    async def _watchdog(self) -> None:
        opts = self.options
        tick = max(0.01, min(0.25, opts.staleness_s / 4.0, opts.heartbeat_timeout_s / 4.0))
        proc = self.processor
        while True:
            await asyncio.sleep(tick)
            if self._reporting:
                self._report_staleness(opts.symbols)
                self.settle()
            ws = self._ws
            if ws is None:
                continue
            silent = proc.clock() - proc.last_message
            if silent > opts.heartbeat_timeout_s:
                log.warning(
                    "feed %s silent for %.1fs (no heartbeat); dropping the connection",
                    opts.url,
                    silent,
                )
                ws.transport.abort()
            elif silent > opts.heartbeat_timeout_s / 2.0 and not self._probed:
                self._probed = True
                self._spawn(self._ping(ws))
            elif silent < opts.heartbeat_timeout_s / 2.0:
                self._probed = False

    async def _ping(self, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            await ws.send(ping_request(self._next_id()))

    def _report_staleness(self, symbols: Sequence[str]) -> None:
        proc = self.processor
        for sym in symbols:
            reason = proc.stale_reason(sym)
            before = self._stale.get(sym, "")
            if reason and not before:
                log.warning("%s is stale: %s", sym, reason)
                self.emit(FeedStale(proc.now_ns, sym, reason))
            elif before and not reason:
                log.info("%s is fresh again", sym)
                self.emit(FeedFresh(proc.now_ns, sym))
            self._stale[sym] = reason
