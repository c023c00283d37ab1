"""A live paper session: ``papertape run configs/live-kraken.toml``.

Steps, in order: plugins and strategies (as for a replay) → the journal → a
:class:`~engine.live.engine.LiveEngine` filling against the order book → a
:class:`~engine.feeds.kraken.client.KrakenFeed` feeding it → run until ``duration_s``,
``max_bars``, Ctrl-C (SIGINT/SIGTERM) or the end of a replay server's tape → metrics.

Each live session gets its own run id (the run name gains the session's UTC start time), so
a second session with the same config never overwrites the first one's journal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from papertape.engine.assembly import SessionResult, assemble, papertape_version, results_of
from papertape.engine.config import RunConfig, parse_config
from papertape.engine.errors import ConfigError
from papertape.engine.events import FeedSummary
from papertape.engine.execution.account import Account
from papertape.engine.execution.book_fills import BookFillSimulator
from papertape.engine.execution.fees import FeeSchedule
from papertape.engine.feeds.kraken.client import FeedOptions, KrakenFeed
from papertape.engine.live.engine import MINUTE_NS, LiveEngine
from papertape.engine.loop import EngineSettings, RunInfo

if TYPE_CHECKING:
    from papertape.engine.events import Event
    from papertape.engine.feeds.kraken.book import OrderBook
    from papertape.engine.feeds.kraken.protocol import Candle, Ticker, Trade
    from papertape.engine.journal import JournalStore

__all__ = ["LiveSession", "run_live", "session_config"]

log = logging.getLogger("papertape.live")


def session_config(config: RunConfig, started: datetime | None = None) -> RunConfig:
    """``config`` with the session's start time in its run name (hence a fresh run id)."""
    stamp = (started or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    data = config.canonical()
    data["run"]["name"] = f"{config.run.name}-{stamp}"
    return parse_config(data, config.base_dir)


class LiveSession:
    """One live paper session (also the feed's handler of bars, trades and books).

    Args:
        config: A validated config with ``run.mode = "live"`` and a ``[live]`` section.
        journal: Write the journal (default: ``journal.enabled``).
        extra_plugins: More pluggy plugins (event consumers such as a monitor).
    """

    def __init__(
        self,
        config: RunConfig,
        journal: bool | None = None,
        extra_plugins: Sequence[object] = (),
    ) -> None:
        live = config.live
        if live is None or config.run.mode != "live":
            raise ConfigError("run.mode", config.run.mode, "a live session needs mode = 'live'")
        self.config = config
        self.live = live
        parts = assemble(config, journal, extra_plugins)
        pm, slots, global_shields = parts.pm, parts.slots, parts.global_shields
        self.writer: JournalStore | None = parts.writer
        ex = config.execution
        settings = EngineSettings(
            simulator=BookFillSimulator(
                FeeSchedule(ex.maker_bps, ex.taker_bps),
                live.limit_fill,
                Account(config.account.type, config.account.max_leverage),
            ),
            max_strategy_errors=config.run.max_strategy_errors,
            mark_every=config.journal.mark_every,
            risk_free=config.metrics.risk_free,
        )
        info = RunInfo(
            config.run_id,
            config.config_hash,
            f"live:{live.url}",
            config.run.seed,
            "live",
            papertape_version(),
        )
        self.feed = KrakenFeed(
            FeedOptions(
                tuple(live.symbols),
                live.url,
                live.book_depth,
                live.ohlc_interval,
                live.staleness_s,
                live.heartbeat_timeout_s,
                live.reconnect_initial_s,
                live.reconnect_max_s,
                live.max_failures,
                seed=config.run.seed,
            ),
            self,
            emit=self._emit,
            settle=self._settle,
        )
        self.engine = LiveEngine(
            live.symbols,
            slots,
            pm,
            settings,
            info,
            global_shields,
            capacity=live.history_bars,
            interval_ns=live.ohlc_interval * MINUTE_NS,
            stale_reason=self.feed.stale_reason,
            clock=self._market_time,
        )
        self.live_bars = 0  # bars closed live (not backfilled)

    def _emit(self, event: Event) -> None:
        self.engine.emit(event)

    def _settle(self) -> None:
        self.engine.settle()

    def _market_time(self) -> int:
        return self.feed.processor.now_ns

    # ---------------------------------------------------------------------------------------
    # feed handler
    # ---------------------------------------------------------------------------------------

    def on_bar(self, candle: Candle, stale_reason: str) -> None:
        """A closed candle: through the pipeline."""
        self.engine.on_bar(
            candle.symbol,
            candle.begin,
            candle.open,
            candle.high,
            candle.low,
            candle.close,
            candle.volume,
            stale_reason,
        )
        if not stale_reason.startswith("backfilled"):
            self.live_bars += 1
            if self.live.max_bars and self.live_bars >= self.live.max_bars:
                self.feed.stop()

    def on_trade(self, trade: Trade, backfill: bool) -> None:
        """A trade: limit and stop orders may fill."""
        self.engine.on_trade(trade.symbol, trade, trade.time)

    def on_book(self, book: OrderBook) -> None:
        """A verified book change: waiting market orders may fill."""
        self.engine.on_book(book.symbol, book, book.top(), book.time)

    def on_ticker(self, ticker: Ticker) -> None:
        """Unused: the verified book already gives the top of book."""

    # ---------------------------------------------------------------------------------------
    # running
    # ---------------------------------------------------------------------------------------

    def stop(self) -> None:
        """End the session soon (from a signal handler or another task)."""
        self.feed.stop()

    async def run(self) -> SessionResult:
        """Run until a stop condition; return the session's results."""
        loop = asyncio.get_running_loop()
        handled: list[signal.Signals] = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self.stop)
                handled.append(sig)
        deadline = (
            loop.call_later(self.live.duration_s, self.stop) if self.live.duration_s else None
        )
        start = time.perf_counter()
        self.engine.start()
        try:
            await self.feed.run()
        finally:
            if deadline is not None:
                deadline.cancel()
            for sig in handled:
                loop.remove_signal_handler(sig)
            self.engine.emit(FeedSummary(self.feed.processor.now_ns, self.feed.stats.as_dict()))
            self.engine.finish()
            if self.writer is not None:
                self.writer.close()
        seconds = time.perf_counter() - start
        log.info(
            "live session %s: %d bars, feed %s",
            self.config.run_id,
            self.engine.bars,
            self.feed.stats.as_dict(),
        )
        return replace(results_of(self.engine, seconds, self.writer), bars=self.engine.bars)


def run_live(
    config: RunConfig, journal: bool | None = None, extra_plugins: Sequence[object] = ()
) -> SessionResult:
    """Run a live session from synchronous code (each session gets its own run id)."""
    session = LiveSession(session_config(config), journal, extra_plugins)
    return asyncio.run(session.run())
