"""The engine of a live paper session: the replay engine's pipeline, fed one bar at a time.

:class:`LiveEngine` reuses :class:`~engine.loop.Engine` whole (snapshot → annotate →
strategies → sizer → shields → orders → portfolio → events) and changes only what live
trading needs:

* history lives in preallocated rings (:class:`~engine.market.RingHistory`), appended per
  closed bar by :meth:`LiveEngine.on_bar`; each ring's ``top`` follows the order book;
* orders fill through :class:`~engine.execution.book_fills.BookFillSimulator`: market orders
  against the book right after the decision round, limits and stops on the trade stream;
* a **stale** snapshot (the feed is down, resynchronising, silent past its limit, or the bar
  was backfilled) reaches strategies with ``stale=True``; any order it would cause is vetoed
  with an ``OrderVetoed`` event from the ``stale_feed`` shield, and working orders stay;
* a slow (awaitable) decision does not hold the feed: it is awaited in the background and
  acted on when it arrives, against the market as it is then (stale then means vetoed);
  each trader has its own ordering (its decisions are acted on in the order of their
  snapshots) and a fast trader never waits behind a slow one; a late decision is journaled
  with both times: its ``signal`` carries the time of the snapshot it was taken on, the
  orders (or vetoes) it causes the market time it arrived;
* one step (equity marking, shields) per bar time, once every symbol's bar of that time
  arrived or a later bar shows it never will.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from papertape.engine.containment import CONTAINED
from papertape.engine.errors import ExecutionError
from papertape.engine.execution.book_fills import BookFillSimulator, DepthBook, TradePrint
from papertape.engine.feeds.base import BarSeries
from papertape.engine.loop import Engine, EngineSettings, RunInfo, SlotSpec
from papertape.engine.market import RingHistory, TopOfBook
from papertape.engine.snapshot import Snapshot

if TYPE_CHECKING:
    import pluggy

    from papertape.engine.loop import _Slot
    from papertape.engine.risk.base import Shield

__all__ = ["LiveEngine"]

log = logging.getLogger("papertape.live")
MINUTE_NS = 60_000_000_000


def _placeholder(symbol: str, interval_ns: int) -> BarSeries:
    """Two empty bars that tell the base engine the symbol and its bar interval only."""
    zeros = np.zeros(2)
    return BarSeries.from_arrays(
        symbol,
        np.array([0, interval_ns], dtype=np.int64),
        zeros,
        zeros,
        zeros,
        zeros,
        zeros,
        "live",
    )


def _never_stale(symbol: str) -> str:
    return ""


class LiveEngine(Engine):
    """An :class:`~engine.loop.Engine` driven bar by bar from a live feed.

    Class attribute ``live`` is True: slow decisions are acted on as they arrive.

    Args:
        symbols: Symbols of the session, in feed order.
        slots: Strategy instances with sizers and shields.
        pm: Plugin manager (events, annotators).
        settings: Engine settings; the simulator must be a ``BookFillSimulator``.
        run: Identity of the run (``mode="live"``).
        global_shields: Portfolio-level shields.
        capacity: Bars of history kept per symbol.
        interval_ns: Bar interval (strategies read it from their context).
        stale_reason: Why a symbol's data is stale now (``""`` when fresh).
        clock: Current market time in ns (fill times for decisions and late decisions).
    """

    live = True

    def __init__(
        self,
        symbols: Sequence[str],
        slots: Sequence[SlotSpec],
        pm: pluggy.PluginManager,
        settings: EngineSettings | None = None,
        run: RunInfo | None = None,
        global_shields: Sequence[Shield] = (),
        *,
        capacity: int = 4096,
        interval_ns: int = MINUTE_NS,
        stale_reason: Callable[[str], str] = _never_stale,
        clock: Callable[[], int] | None = None,
    ) -> None:
        settings = settings or EngineSettings(simulator=BookFillSimulator())
        if not isinstance(settings.simulator, BookFillSimulator):
            raise ExecutionError("a live engine fills against the book: use BookFillSimulator")
        super().__init__(
            [_placeholder(s, interval_ns) for s in symbols],
            slots,
            pm,
            settings,
            run or RunInfo(mode="live"),
            global_shields,
        )
        self.book_sim: BookFillSimulator = settings.simulator
        self.rings = tuple(RingHistory(s, capacity) for s in self.symbols)
        self.histories = self.rings
        self.books: list[DepthBook | None] = [None] * len(self.symbols)
        self.index = {s: i for i, s in enumerate(self.symbols)}
        self.stale_reason = stale_reason
        self.clock = clock or (lambda: 0)
        self.bars = 0
        self._why: dict[int, str] = {}
        self._step_time: int | None = None
        self._step_seen: set[int] = set()
        self._late: set[asyncio.Future[None]] = set()
        # Per trader, its latest slow decision still in flight: each trader's decisions are
        # acted on in the order of the snapshots they were taken on, independently of the
        # other traders (a fast trader never waits behind a slow one).
        self._last_late: dict[str, asyncio.Future[None]] = {}
        self._position = self._qty_of

    def _qty_of(self, strategy: str, symbol: str) -> float:
        return self._by_id[strategy].portfolio.qty(symbol)

    # ---------------------------------------------------------------------------------------
    # session life cycle
    # ---------------------------------------------------------------------------------------

    async def run(self) -> None:
        """Not available: a live engine is driven by a feed (see ``engine.live.LiveSession``)."""
        raise ExecutionError("a live engine is driven bar by bar; use engine.live.LiveSession")

    def start(self) -> None:
        """Announce the run and start every strategy."""
        self._start()
        self.settle()

    def finish(self) -> None:
        """Close the last step, drop pending slow decisions and announce the end."""
        self._close_step()
        for task in self._late:
            task.cancel()
        if self._late:
            log.warning("%d slow decisions were still pending at the end", len(self._late))
        self._finish()
        self.settle()

    # ---------------------------------------------------------------------------------------
    # feed inputs
    # ---------------------------------------------------------------------------------------

    def on_bar(
        self,
        symbol: str,
        time: int,
        open_: float,
        high: float,
        low: float,
        close: float,
        volume: float,
        stale_reason: str = "",
    ) -> None:
        """Process one closed bar through the pipeline (``stale_reason``: why it is stale)."""
        s = self.index[symbol]
        if self._step_time is not None and time > self._step_time:
            self._close_step()
        if self._step_time is None:
            self._step_time = time
        ring = self.rings[s]
        ring.append(time, open_, high, low, close, volume)
        counts = self.counts
        counts[s] = ring.count
        self.marks[symbol] = close
        self.bars += 1
        stale = bool(stale_reason)
        if stale:
            self._why[s] = stale_reason
        self._step_seen.add(s)
        if len(self._step_seen) == len(self.symbols):
            self._close_step()  # marks and shields first: they judge this bar's orders
        waiting: list[tuple[_Slot, Awaitable[Any], Snapshot]] = []
        self._decide_bar(s, time, close, tuple(counts), waiting, stale)
        for slot, decision, snap in waiting:
            self._later(slot, decision, snap)
        self._fill_all(self.clock() or time)
        self.settle()

    def on_trade(self, symbol: str, trade: TradePrint, time: int) -> None:
        """A trade printed: limits it crosses fill, stops it triggers fire."""
        s = self.index[symbol]
        if self.sim.pending.get(symbol):
            self._fill(s, time, trade)
            self.settle()

    def on_book(self, symbol: str, book: DepthBook, top: TopOfBook | None, time: int) -> None:
        """The book changed (and verified): waiting market orders try again."""
        s = self.index[symbol]
        self.books[s] = book
        self.rings[s].top = top
        if self.sim.pending.get(symbol):
            self._fill(s, time)
            self.settle()

    def _fill(self, s: int, time: int, trade: TradePrint | None = None) -> None:
        sym = self.symbols[s]
        if not self.sim.pending.get(sym):
            return
        by_id = self._by_id
        for fill in self.book_sim.match(
            sym, self.books[s], time, self._position, trade, self._buying_power
        ):
            self._book(by_id[fill.strategy], fill)

    def _fill_all(self, time: int) -> None:
        """Market orders (of any symbol) from the decisions, shields and liquidations just made."""
        for sym in [k for k, orders in self.sim.pending.items() if orders]:
            self._fill(self.index[sym], time)  # booking may submit (liquidations): a copy

    def _close_step(self) -> None:
        t = self._step_time
        if t is None:
            return
        self._step_time = None
        self._step_seen.clear()
        self._mark_step(t)

    # ---------------------------------------------------------------------------------------
    # slow decisions and stale vetoes
    # ---------------------------------------------------------------------------------------

    def _later(self, slot: _Slot, decision: Awaitable[Any], snap: Snapshot) -> None:
        before = self._last_late.get(slot.id)
        task = asyncio.ensure_future(self._await_late(slot, decision, snap, before))
        self._late.add(task)
        self._last_late[slot.id] = task
        task.add_done_callback(self._late.discard)
        task.add_done_callback(functools.partial(self._forget_late, slot.id))

    def _forget_late(self, strategy: str, task: asyncio.Future[None]) -> None:
        if self._last_late.get(strategy) is task:
            del self._last_late[strategy]

    async def _await_late(
        self,
        slot: _Slot,
        decision: Awaitable[Any],
        snap: Snapshot,
        before: asyncio.Future[None] | None = None,
    ) -> None:
        try:
            res = await decision
        except CONTAINED as exc:  # user code: sys.exit() in a slow trader is its own failure
            res = exc
        if before is not None and not before.done():
            # this trader's earlier decision goes first (it keeps thinking meanwhile)
            await asyncio.wait([before])
        if isinstance(res, CONTAINED):
            self._fail(slot, res, snap.time)
            self.settle()
            return
        if res is None or not slot.enabled:
            return
        why = self.stale_reason(snap.symbol)
        if why:
            self._why[snap.symbol_index] = why
        self._arrived = self.clock() or snap.time
        try:
            self._decide(slot, res, snap._replace(stale=bool(why)))
        finally:
            self._arrived = None
        self._fill_all(self.clock() or snap.time)
        self.settle()

    def _lag_ns(self) -> int | None:
        """How far the market clock (the feed's latest time) is behind the wall clock."""
        now = self.clock()
        return time.time_ns() - now if now else None

    def stale_why(self, snap: Snapshot) -> str:
        """The recorded reason the feed of ``snap.symbol`` is stale."""
        return self._why.get(snap.symbol_index) or "feed stale"
