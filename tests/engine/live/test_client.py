"""The WebSocket client against the real replay server: reconnects, staleness, resyncs, backoff."""

from __future__ import annotations

import random
import socket
from typing import Any

import pytest

from papertape.engine.errors import FeedError
from papertape.engine.feeds.kraken.client import FeedOptions, KrakenFeed, backoff_delay
from tests.engine.live.conftest import SYMBOL, alt_tape, run, serving
from tests.engine.live.test_stream import Collect


async def consume(
    tape_bars: int = 60, feed_kw: dict[str, Any] | None = None, **server: Any
) -> tuple[Collect, KrakenFeed, list[Any], Any]:
    """Run a bare feed (no engine) over a replay server until the tape ends."""
    handler = Collect()
    events: list[Any] = []
    async with serving(alt_tape(bars=tape_bars), **server) as srv:
        opts = FeedOptions(
            (SYMBOL,),
            srv.url,
            reconnect_initial_s=0.02,
            reconnect_max_s=0.05,
            seed=1,
            **(feed_kw or {}),
        )
        feed = KrakenFeed(opts, handler, emit=events.append)
        await feed.run()
        assert feed.ended
        return handler, feed, events, srv


def test_aborted_connections_are_reopened_and_resubscribed() -> None:
    clean, _, _, _ = run(consume())
    h, feed, events, srv = run(consume(drop_every=150, drop_mode="abort"))
    assert srv.stats.drops >= 5 and feed.stats.reconnects == srv.stats.drops
    assert feed.stats.connections == srv.stats.connections == srv.stats.drops + 1
    kinds = [e.kind for e in events]
    assert kinds.count("feed_disconnected") == feed.stats.reconnects
    assert kinds.count("feed_connected") == feed.stats.connections
    times = [b[0] for b in h.bars]
    assert times == sorted(set(times))  # no bar twice, none out of order
    assert times == [b[0] for b in clean.bars]  # nothing missed: the tape waited


def test_a_silent_feed_goes_stale_and_fresh_again_without_losing_data() -> None:
    clean, _, _, _ = run(consume())
    h, feed, events, srv = run(
        consume(
            stall_every=300, stall_s=0.6, feed_kw={"staleness_s": 0.15, "heartbeat_timeout_s": 5.0}
        )
    )
    assert srv.stats.stalls >= 2
    stale = [e for e in events if e.kind == "feed_stale"]
    fresh = [e for e in events if e.kind == "feed_fresh"]
    assert len(stale) >= 2 and len(fresh) >= 2
    assert all("no message for" in e.reason and e.symbol == SYMBOL for e in stale)
    assert feed.stats.reconnects == 0  # silence below the heartbeat timeout: keep the line
    assert h.bars == clean.bars  # the engine kept running through it


def test_a_connection_silent_past_the_heartbeat_timeout_is_replaced() -> None:
    clean, _, _, _ = run(consume())
    h, feed, events, srv = run(
        consume(
            stall_every=400, stall_s=1.0, feed_kw={"staleness_s": 0.1, "heartbeat_timeout_s": 0.3}
        )
    )
    assert srv.stats.stalls >= 2 and feed.stats.reconnects >= 1
    lost = [e for e in events if e.kind == "feed_disconnected"]
    assert lost and all("connection lost" in e.reason for e in lost)
    assert [b[0] for b in h.bars] == [b[0] for b in clean.bars]


def test_a_checksum_mismatch_resubscribes_the_book() -> None:
    h, feed, events, srv = run(consume(tape_bars=100, corrupt_book_every=90))
    mismatches = feed.stats.rejected["checksum_mismatch"]
    # a corrupted frame that arrives while a resync is pending is dropped unread
    assert srv.stats.corrupted == 4 and mismatches >= 2
    assert feed.stats.book_resyncs == mismatches  # each detected mismatch: one resubscription
    resyncs = [e for e in events if e.kind == "book_resync"]
    assert len(resyncs) == feed.stats.book_resyncs and "checksum" in resyncs[0].reason
    # resubscriptions delivered fresh snapshots (the last may still be due at the tape's end)
    assert feed.stats.book_snapshots >= 2
    # the handler only ever saw books that had just passed their checksum
    assert h.book_valid and all(h.book_valid)


def test_a_refused_subscription_is_an_error_not_a_retry_loop() -> None:
    async def go() -> None:
        async with serving(alt_tape(bars=5)) as srv:
            feed = KrakenFeed(FeedOptions(("NOPE/USD",), srv.url), Collect())
            await feed.run()

    with pytest.raises(FeedError, match="Currency pair not supported"):
        run(go(), timeout=10.0)


def test_backoff_grows_with_jitter_and_gives_up_after_max_failures() -> None:
    rng = random.Random(3)
    delays = [backoff_delay(n, 0.5, 4.0, rng) for n in range(1, 7)]
    caps = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert all(c / 2 <= d <= c for d, c in zip(delays, caps, strict=True))
    assert len(set(delays)) == len(delays)  # jittered

    with socket.socket() as s:  # a port on which nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    events: list[Any] = []
    opts = FeedOptions(
        (SYMBOL,),
        f"ws://127.0.0.1:{port}",
        reconnect_initial_s=0.01,
        reconnect_max_s=0.04,
        max_failures=4,
        open_timeout_s=1.0,
    )
    feed = KrakenFeed(opts, Collect(), emit=events.append)
    with pytest.raises(FeedError, match="4 connections failed in a row"):
        run(feed.run(), timeout=10.0)
    assert [e.attempt for e in events] == [2, 3, 4]
    assert all("cannot connect" in e.reason for e in events)
    assert [e.delay_s <= cap for e, cap in zip(events, (0.02, 0.04, 0.04), strict=True)]
