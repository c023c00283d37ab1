"""``papertape feed``: serve recorded data over the Kraken v2 protocol, or record a live stream."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import time

from rich.console import Console

from papertape.engine.errors import ConfigError

__all__ = ["register"]

FEED_HELP = """\
Market-data feed tools. `serve` runs a local WebSocket server that speaks Kraken's v2
protocol from recorded data, so live sessions, demos and tests use the real client offline;
`record` captures a live stream to a file that `serve` can replay.
"""

SERVE_HELP = """\
Serve a data or capture file on ws://127.0.0.1:PORT with Kraken's WebSocket v2 protocol:
subscribe/unsubscribe acknowledgements, a snapshot per subscription then updates (book with
CRC32 checksums, trade, ohlc, ticker), status on connect, heartbeats and ping/pong.

OHLCV files become trades along each bar's path plus ohlc, book and ticker updates (a
replayed bar closes with the file's exact OHLCV); trades files become one trade each;
capture files from `papertape feed record` are replayed frame by frame.

The tape plays once, for every client, at --speed times recorded time (0: as fast as the
clients read). It waits while no client is subscribed, so a client that reconnects misses
nothing (--realtime: keep playing, like an exchange). At the end clients are closed with
code 1000 "end of replay". Fault options drop, stall or corrupt the stream for tests.

  papertape feed serve --replay binance_altbtc_1m.csv --symbol ALT/BTC --speed 60 --port 8765
  papertape feed serve --replay btc.capture --speed 1
  papertape feed serve --replay binance_altbtc_1m.csv --speed 0 --drop-every 5000
"""

RECORD_HELP = """\
Record a live Kraken v2 stream (book, trade, ohlc, ticker) to a capture file: one JSON line
per received frame with its receive time, exactly as received. Reconnects on its own; stops
after --duration seconds, --max-messages frames or Ctrl-C. Replay it with
`papertape feed serve --replay FILE`.

  papertape feed record --symbol BTC/USD --out captures/btc.capture --duration 600
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``feed`` command group (``serve``, ``record``)."""
    feed = sub.add_parser(
        "feed",
        help="serve recorded data as a Kraken v2 feed, or record one",
        description=FEED_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cmds = feed.add_subparsers(dest="feed_command", metavar="COMMAND", required=True)

    s = cmds.add_parser(
        "serve",
        help="replay a file over a local Kraken v2 WebSocket server",
        description=SERVE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    s.add_argument(
        "--replay",
        required=True,
        metavar="FILE",
        help="OHLCV or trades CSV/Parquet (shipped names work), or a capture file",
    )
    s.add_argument("--symbol", metavar="S", help="symbol on the wire (default: file name)")
    s.add_argument(
        "--speed",
        type=float,
        default=1.0,
        metavar="X",
        help="times recorded speed; 0 = as fast as clients read (default 1)",
    )
    s.add_argument(
        "--port", type=int, default=8765, metavar="P", help="port (default 8765; 0 = any free port)"
    )
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    s.add_argument(
        "--history",
        type=int,
        default=0,
        metavar="N",
        help="first N bars are history (in the first ohlc snapshot), not replayed",
    )
    s.add_argument("--bars", type=int, metavar="N", help="replay at most N bars (or minutes)")
    s.add_argument(
        "--trades-per-bar",
        type=int,
        default=4,
        metavar="N",
        help="trades synthesized per OHLCV bar (>= 4, default 4)",
    )
    s.add_argument("--seed", type=int, default=7, help="seed of the synthetic book (default 7)")
    s.add_argument(
        "--realtime",
        action="store_true",
        help="keep playing while no client listens (reconnecting clients see gaps)",
    )
    s.add_argument(
        "--drop-every",
        type=int,
        default=0,
        metavar="N",
        help="disconnect each client after N messages (fault injection)",
    )
    s.add_argument(
        "--drop-interval",
        type=float,
        default=0.0,
        metavar="S",
        help="disconnect each client after S seconds (fault injection)",
    )
    s.add_argument(
        "--drop-mode",
        choices=["close", "abort"],
        default="close",
        help="disconnect with a close frame (1012) or by aborting TCP",
    )
    s.add_argument(
        "--stall-every",
        type=int,
        default=0,
        metavar="N",
        help="go silent (no heartbeats) every N messages ...",
    )
    s.add_argument("--stall-s", type=float, default=0.0, metavar="S", help="... for S seconds")
    s.add_argument(
        "--corrupt-book-every",
        type=int,
        default=0,
        metavar="N",
        help="send every Nth book message with a wrong checksum",
    )
    s.add_argument(
        "--garbage-every",
        type=int,
        default=0,
        metavar="N",
        help="inject a malformed/unknown/out-of-order message every N messages",
    )
    s.add_argument("--exit-at-end", action="store_true", help="exit when the tape has ended")
    s.set_defaults(handler=_serve)

    r = cmds.add_parser(
        "record",
        help="record a live Kraken v2 stream to a capture file",
        description=RECORD_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    r.add_argument(
        "--symbol",
        action="append",
        required=True,
        metavar="S",
        help="Kraken v2 symbol, e.g. BTC/USD (repeatable)",
    )
    r.add_argument("--out", required=True, metavar="FILE", help="capture file to write")
    r.add_argument("--url", default=None, help="WebSocket URL (default: Kraken's public v2)")
    r.add_argument(
        "--duration",
        type=float,
        default=0.0,
        metavar="S",
        help="stop after S seconds (default: until Ctrl-C)",
    )
    r.add_argument("--max-messages", type=int, default=0, metavar="N", help="stop after N frames")
    r.add_argument(
        "--depth",
        type=int,
        default=10,
        choices=[10, 25, 100, 500, 1000],
        help="book depth (default 10)",
    )
    r.add_argument(
        "--interval", type=int, default=1, metavar="M", help="ohlc interval in minutes (default 1)"
    )
    r.set_defaults(handler=_record)


def _serve(args: argparse.Namespace) -> int:
    from papertape.engine.config import resolve_data_path
    from papertape.engine.feeds.kraken.sources import load_tape
    from papertape.engine.feeds.replay_server import ReplayOptions, ReplayServer

    if args.speed < 0:
        raise ConfigError("--speed", args.speed, "must be >= 0")
    if args.trades_per_bar < 4:
        raise ConfigError("--trades-per-bar", args.trades_per_bar, "must be >= 4")
    path = resolve_data_path(args.replay)
    tape = load_tape(
        path,
        args.symbol,
        history=args.history,
        bars=args.bars,
        trades_per_bar=args.trades_per_bar,
        seed=args.seed,
    )
    options = ReplayOptions(
        speed=args.speed,
        realtime=args.realtime,
        drop_every=args.drop_every,
        drop_interval_s=args.drop_interval,
        drop_mode=args.drop_mode,
        stall_every=args.stall_every,
        stall_s=args.stall_s,
        corrupt_book_every=args.corrupt_book_every,
        garbage_every=args.garbage_every,
    )

    async def serve() -> None:
        server = ReplayServer(tape, options)
        await server.start(args.host, args.port)
        print(
            f"serving {path.name} as {', '.join(tape.symbols)} on {server.url} "
            f"(speed {args.speed:g}); Ctrl-C to stop",
            flush=True,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        waits = [asyncio.ensure_future(stop.wait())]
        if args.exit_at_end:
            waits.append(asyncio.ensure_future(server.finished.wait()))
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        if args.exit_at_end and server.finished.is_set():
            await asyncio.sleep(0.5)  # let the last clients read their close frames
        for w in waits:
            w.cancel()
        await server.close()
        print(
            f"served {server.stats.played} messages to {server.stats.connections} "
            f"connections ({server.stats.drops} forced drops)",
            flush=True,
        )

    asyncio.run(serve())
    return 0


class _Discard:
    """A feed handler that only lets the stream flow (the tap records it)."""

    def on_bar(self, candle: object, stale_reason: str) -> None:
        """Ignore."""

    def on_trade(self, trade: object, backfill: bool) -> None:
        """Ignore."""

    def on_book(self, book: object) -> None:
        """Ignore."""

    def on_ticker(self, ticker: object) -> None:
        """Ignore."""


def _record(args: argparse.Namespace) -> int:
    from papertape.engine.feeds.capture import CaptureWriter
    from papertape.engine.feeds.kraken.client import KRAKEN_WS_URL, FeedOptions, KrakenFeed
    from papertape.engine.feeds.kraken.protocol import CHANNELS

    url = args.url or KRAKEN_WS_URL
    if not url.startswith(("ws://", "wss://")):
        raise ConfigError("--url", url, "must be a ws:// or wss:// URL")
    options = FeedOptions(tuple(args.symbol), url, depth=args.depth, interval_min=args.interval)
    writer = CaptureWriter(
        args.out,
        url,
        args.symbol,
        {"channels": list(CHANNELS), "depth": args.depth, "interval": args.interval},
    )
    err = Console(stderr=True)

    async def record() -> None:
        feed: KrakenFeed

        def tap(frame: str | bytes) -> None:
            writer.write(frame)
            if args.max_messages and writer.frames >= args.max_messages:
                feed.stop()

        feed = KrakenFeed(options, _Discard(), tap=tap)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, feed.stop)
        if args.duration:
            loop.call_later(args.duration, feed.stop)
        err.print(f"recording {', '.join(args.symbol)} from {url} to {args.out}")
        await feed.run()

    start = time.monotonic()
    try:
        asyncio.run(record())
    finally:
        writer.close()
    print(
        f"recorded {writer.frames} frames in {time.monotonic() - start:.1f}s to {args.out}",
        file=sys.stdout,
        flush=True,
    )
    return 0
