"""The tick loop: feed events → snapshot → annotate → strategies → size → shields → execute → book.

One :class:`Engine` runs one session. The replay path walks a merged, preloaded event order in
chunks (numpy → Python lists once per chunk, so the per-bar work is plain Python on floats and
ints) and touches pluggy only for rare things: annotation (when a plugin implements it) and
events (signals, orders, fills, shields). Strategies are called directly.

The clock: a bar becomes visible when it *closes* (open time + interval, or the next bar's
open when that comes sooner; see :func:`~papertape.engine.feeds.base.close_times`). The replay
walks *moments* of that clock; at each moment, for every bar closing then:

1. working orders of its symbol meet the bar, if they were decided at or before its open (an
   order decided inside an already open bar waits for the next one);
2. the bar becomes visible (counts, last price);

then, once every bar of the moment is in:

3. every portfolio is marked (equity = cash + positions) and shields that watch equity see it,
   so they judge the moment's orders against equity at the decision's prices;
4. per bar that closed, a new immutable :class:`Snapshot`, annotators, then each strategy
   subscribed to its symbol; signals are sized, checked by shields and queued. Awaitable
   decisions of the whole moment are gathered in one round.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import time
from array import array
from collections.abc import Awaitable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from papertape.engine.delivery import EventDelivery
from papertape.engine.errors import ExecutionError, StrategyError
from papertape.engine.events import (
    DataRejected,
    EquityMarked,
    Event,
    OrderCancelled,
    OrderFilled,
    OrderSubmitted,
    OrderVetoed,
    RegimeChanged,
    RunFinished,
    RunStarted,
    ShieldReleased,
    ShieldTripped,
    SignalEmitted,
    StrategyDisabled,
    StrategyFailed,
    TradeClosed,
)
from papertape.engine.execution.orders import Order, OrderRole, OrderType, Side, Signal, Target
from papertape.engine.execution.simulator import ExecutionSimulator
from papertape.engine.feeds.base import merge_series
from papertape.engine.market import ReplayHistory, SymbolHistory
from papertape.engine.portfolio import Portfolio, PortfolioView
from papertape.engine.risk.base import OrderIntent, ShieldState
from papertape.engine.snapshot import EMPTY_ANNOTATIONS, Snapshot
from papertape.engine.stepping import CHUNK, Moment, StepResult, moments
from papertape.engine.strategy import StrategyContext

if TYPE_CHECKING:
    import pluggy

    from papertape.engine.execution.orders import Fill
    from papertape.engine.feeds.base import BarSeries
    from papertape.engine.risk.base import Shield, Transition
    from papertape.engine.sizing import Sizer
    from papertape.engine.strategy import Strategy

__all__ = ["STALE_FEED", "Engine", "RunInfo", "SlotSpec"]

log = logging.getLogger("papertape.engine")
GLOBAL = "*"
STALE_FEED = "stale_feed"  # the "shield" named in vetoes of orders from a stale snapshot


@dataclass(frozen=True, slots=True)
class RunInfo:
    """Identity and reproducibility facts of a run (journaled in ``run_started``)."""

    run_id: str = "adhoc"
    config_hash: str = ""
    data_hash: str = ""
    seed: int = 0
    mode: str = "backtest"
    version: str = ""


@dataclass(slots=True)
class SlotSpec:
    """One configured strategy instance with its sizer and shields."""

    id: str
    strategy: Strategy
    sizer: Sizer
    shields: Sequence[Shield] = ()
    symbols: Sequence[str] | None = None  # None = every symbol of the run
    initial_cash: float = 100_000.0


@dataclass(slots=True)
class _Slot:
    id: str
    strategy: Strategy
    sizer: Sizer
    shields: list[Shield]
    portfolio: Portfolio
    view: PortfolioView
    symbol_ids: list[int]
    errors: int = 0
    enabled: bool = True
    halted: bool = False
    exposed_steps: int = 0


class TelemetryOutlet(Protocol):
    """Where marked steps go for monitors: ``papertape.engine.telemetry.TelemetryChannel``.

    Lossy by contract: ``offer`` never blocks (a full channel drops and counts), and samples
    never touch the journal.
    """

    every: int

    def offer(self, sample: Any) -> bool:
        """Take one sample if there is room; False when it was dropped."""
        ...


@dataclass
class EngineSettings:
    """Engine-wide behaviour (the config maps onto this).

    Attributes:
        simulator: Fills working orders.
        max_strategy_errors: Failures after which a strategy is switched off.
        mark_every: Journal an ``equity`` event every N steps (0: never).
        telemetry: A lossy channel that gets a sample (equity, positions, marks, regimes) at
            the end of every ``telemetry.every``-th marked step; None costs nothing.
        trade_from: Start of the run's window (ns). Moments stamped before it are warm-up:
            their bars feed strategies and annotators (indicators), but decisions are
            dropped, nothing trades and no equity is marked.
    """

    simulator: ExecutionSimulator = field(default_factory=ExecutionSimulator)
    max_strategy_errors: int = 3
    mark_every: int = 0
    telemetry: TelemetryOutlet | None = None
    trade_from: int | None = None


class Engine:
    """Runs strategies over bar series and records everything that happens."""

    def __init__(
        self,
        series: Sequence[BarSeries],
        slots: Sequence[SlotSpec],
        pm: pluggy.PluginManager,
        settings: EngineSettings | None = None,
        run: RunInfo | None = None,
        global_shields: Sequence[Shield] = (),
    ) -> None:
        if not series:
            raise ExecutionError("no market data: give at least one bar series")
        names = [s.symbol for s in series]
        if len(set(names)) != len(names):
            raise ExecutionError(f"duplicate symbols in the data: {names}")
        self.series = list(series)
        self.symbols = tuple(names)
        self.settings = settings or EngineSettings()
        self.sim = self.settings.simulator
        self.run_info = run or RunInfo()
        self.pm = pm
        self.histories: tuple[SymbolHistory, ...] = tuple(ReplayHistory(s) for s in series)
        self.marks: dict[str, float] = {}
        self.counts = [0] * len(series)
        self.step_count = 0  # steps (moments) marked so far
        self.step_times: array[int] = array("q")
        # The clock: the moment (ns) whose closed bars the current decisions see. In replay
        # an order decided at ``now`` may fill only on a bar of its symbol opening at or
        # after ``now``; orders that must skip an already open bar wait in ``_not_before``.
        self.now = 0
        self._replaying = False
        self._not_before: dict[int, int] = {}  # order id -> earliest open it may fill on
        self._index = {name: i for i, name in enumerate(names)}
        # Stepping from outside (start/step/finish): the moments still to come, the next one
        # (looked ahead so a step knows it was the last), externally chosen sizes of the step.
        self._moments: Iterator[Moment] | None = None
        self._next: Moment | None = None
        self._sizes: Mapping[str, float] | None = None
        self._step_loop: asyncio.AbstractEventLoop | None = None
        self._plain = False
        self.global_shields = list(global_shields)
        self.event_counts: dict[str, int] = {}
        self.delivery = EventDelivery(pm)
        # The current tick's events, handed to papertape_events in one call by settle() (a
        # list, so the replay loop can test it for free on quiet bars).
        self.unsettled: list[Event] = self.delivery.pending
        self._annotate = (
            pm.hook.papertape_annotate if pm.hook.papertape_annotate.get_hookimpls() else None
        )
        # Substituted decisions (journal replay, what-if, an external policy): looked up once,
        # so a plain run pays one local test per strategy call.
        self._substitute = (
            pm.hook.papertape_decision if pm.hook.papertape_decision.get_hookimpls() else None
        )
        self._regimes: dict[str, str] = {}  # last "regime" annotation per symbol
        self.slots: list[_Slot] = []
        self._by_id: dict[str, _Slot] = {}
        index = {name: i for i, name in enumerate(names)}
        self._subs: list[list[_Slot]] = [[] for _ in names]
        for spec in slots:
            if spec.id in self._by_id:
                raise ExecutionError(f"two strategies share the id {spec.id!r}")
            wanted = list(spec.symbols) if spec.symbols else names
            missing = [s for s in wanted if s not in index]
            if missing:
                raise ExecutionError(
                    f"strategy {spec.id!r} trades {missing}, not in the data ({names})"
                )
            pf = Portfolio(spec.id, spec.initial_cash)
            slot = _Slot(
                spec.id,
                spec.strategy,
                spec.sizer,
                list(spec.shields),
                pf,
                PortfolioView(pf, self.marks),
                [index[s] for s in wanted],
            )
            self.slots.append(slot)
            self._by_id[spec.id] = slot
            for i in slot.symbol_ids:
                self._subs[i].append(slot)

    # ---------------------------------------------------------------------------------------
    # events
    # ---------------------------------------------------------------------------------------

    def emit(self, event: Event) -> None:
        """Add one event to the current tick's batch (delivered by :meth:`settle`)."""
        kind = event.kind
        self.event_counts[kind] = self.event_counts.get(kind, 0) + 1
        self.unsettled.append(event)

    def settle(self) -> None:
        """End a tick that emitted events: one ``papertape_events`` call makes them durable.

        The loop calls this after every tick that emitted events, before the next tick; it is
        a no-op when nothing was emitted since the last call. A consumer's exception is
        contained and counted as the consumer's (:attr:`consumer_errors`).
        """
        if self.unsettled:
            self.delivery.deliver()

    @property
    def consumer_errors(self) -> dict[str, int]:
        """Exceptions raised by event consumers, per plugin name (contained, never a strategy's)."""
        return self.delivery.errors

    # ---------------------------------------------------------------------------------------
    # run
    # ---------------------------------------------------------------------------------------

    def run_facts(self) -> dict[str, Any]:
        """The facts handed to ``papertape_run_started`` / ``_finished``."""
        r = self.run_info
        return {
            "run_id": r.run_id,
            "config_hash": r.config_hash,
            "data_hash": r.data_hash,
            "seed": r.seed,
            "mode": r.mode,
            "symbols": list(self.symbols),
            "strategies": [s.id for s in self.slots],
        }

    async def run(self) -> None:
        """Replay every bar of every series through the pipeline."""
        self._start()
        self.settle()
        await self._replay()
        self._finish()

    def run_sync(self) -> None:
        """Run to completion from synchronous code."""
        asyncio.run(self.run())

    # ---------------------------------------------------------------------------------------
    # stepping from outside
    # ---------------------------------------------------------------------------------------

    def start(self) -> None:
        """Begin a stepped replay: announce the run and start every strategy."""
        if self._moments is not None:
            raise ExecutionError("this replay was already started")
        self._start()
        self.settle()
        self._moments = moments(merge_series(self.series), self.series)
        self._plain = self._plain_marking()
        self._next = (
            self._warm_up(self._moments)[0]
            if self.settings.trade_from is not None
            else next(self._moments, None)
        )
        self._replaying = True

    def step(self, sizes: Mapping[str, float] | None = None) -> StepResult:
        """Advance the replay by exactly one moment of the clock and say what happened.

        Args:
            sizes: Position size (units, >= 0) per strategy id for this step. It replaces that
                slot's sizer for every signal of the step, and a signal whose side is already
                held resizes the position to it.

        Returns:
            The step's fills, equity per strategy, events, and whether it was the last step.

        Raises:
            ExecutionError: Before :meth:`start` or after the last step.
        """
        if self._moments is None:
            raise ExecutionError("call start() before step()")
        nxt = self._next
        if nxt is None:
            raise ExecutionError("the replay is over: no step left (call finish())")
        self._sizes = sizes
        try:
            self._moment(*nxt)
        finally:
            self._sizes = None
        events = tuple(self.unsettled)
        self.settle()
        self._next = next(self._moments, None)
        return StepResult(
            self.step_times[-1],
            nxt[0],
            tuple(e for e in events if e.kind == "fill") if events else (),
            {slot.id: slot.portfolio.curve[-1] for slot in self.slots},
            events,
            self._next is None,
        )

    def finish(self) -> None:
        """End a stepped replay (also early): stop the strategies and announce the end."""
        self._replaying = False
        self._moments = self._next = None
        self._finish()
        if self._step_loop is not None:
            self._step_loop.close()
            self._step_loop = None

    def _moment(self, clock: int, bars: list[tuple[int, int, int, float]]) -> None:
        """One moment of the pipeline (the stepped twin of the inlined body of ``_replay``)."""
        names = self.symbols
        counts = self.counts
        marks = self.marks
        pending = self.sim.pending
        for s, r, t, px in bars:
            if pending.get(names[s]):
                self._execute(s, r, t)
            counts[s] = r + 1
            marks[names[s]] = px
        self.now = clock
        t = bars[-1][2]
        if self._plain:
            self.step_count += 1
            self.step_times.append(t)
            for slot in self.slots:
                pf = slot.portfolio
                eq = pf.cash
                if pf.positions:
                    slot.exposed_steps += 1
                    for sym, pos in pf.positions.items():
                        eq += pos.qty * marks[sym]
                pf.curve.append(eq)
        else:
            self._mark_step(t)
        seen = tuple(counts)
        waiting: list[tuple[_Slot, Awaitable[Any], Snapshot]] = []
        decide_bar = self._decide_bar
        for s, _, t, px in bars:
            decide_bar(s, t, px, seen, waiting)
        if waiting:
            if self._step_loop is None:
                self._step_loop = asyncio.new_event_loop()
            self._step_loop.run_until_complete(self._await_decisions(waiting))

    def _warm_up(self, upcoming: Iterator[Moment]) -> tuple[Moment | None, int]:
        """Feed the moments stamped before ``trade_from`` to the strategies without trading.

        Returns the first moment of the window (None if there is none) and the number of bars
        consumed before it.
        """
        trade_from = self.settings.trade_from
        assert trade_from is not None
        names = self.symbols
        counts = self.counts
        marks = self.marks
        bars_done = 0
        for clock, bars in upcoming:
            if bars[-1][2] >= trade_from:
                return (clock, bars), bars_done
            bars_done += len(bars)
            for s, r, _, px in bars:
                counts[s] = r + 1
                marks[names[s]] = px
            self.now = clock
            seen = tuple(counts)
            for s, _, t, px in bars:
                snap = Snapshot(t, names[s], px, seen, names, self.histories, s)
                if self._annotate is not None:
                    snap = self._annotated(snap)
                for slot in self._subs[s]:
                    try:
                        res = slot.strategy.on_bar(snap, slot.view)
                        if inspect.isawaitable(res):
                            _close_unawaited(res)
                    except Exception as exc:
                        self._fail(slot, exc, t)
            self.settle()
        return None, bars_done

    def _plain_marking(self) -> bool:
        """True when marking is only equity = cash + positions (no shields, no periodic marks)."""
        return (
            not self.global_shields
            and not self.settings.mark_every
            and self.settings.telemetry is None
            and not any(slot.shields for slot in self.slots)
        )

    def _decide_bar(
        self,
        s: int,
        t: int,
        px: float,
        seen: tuple[int, ...],
        waiting: list[tuple[_Slot, Awaitable[Any], Snapshot]],
    ) -> None:
        """Snapshot of bar ``s`` (stamped ``t``, closed at ``px``), its strategies' decisions.

        Awaitable decisions go to ``waiting`` (the moment's round); the rest are acted on now.
        """
        names = self.symbols
        fields = (t, names[s], px, seen, names, self.histories, s, False, EMPTY_ANNOTATIONS)
        snap: Snapshot = tuple.__new__(Snapshot, fields)  # NamedTuple's __new__: twice the cost
        if self._annotate is not None:
            snap = self._annotated(snap)
        substitute = self._substitute
        for slot in self._subs[s]:
            try:
                res = None
                if substitute is not None:
                    res = substitute(strategy_id=slot.id, snapshot=snap)
                if res is None:
                    res = slot.strategy.on_bar(snap, slot.view)
            except Exception as exc:
                self._fail(slot, exc, t)
                continue
            if res is None:
                continue
            if res.__class__ is Signal or not inspect.isawaitable(res):
                self._decide(slot, res, snap)
            else:
                waiting.append((slot, res, snap))

    def _start(self) -> None:
        self.delivery.contain()
        r = self.run_info
        first_time = int(
            min(int(s.time[0]) for s in self.series if len(s))
            if any(len(s) for s in self.series)
            else 0
        )
        self.pm.hook.papertape_run_started.call_historic(kwargs={"run": self.run_facts()})
        self.emit(
            RunStarted(
                first_time,
                r.run_id,
                r.config_hash,
                r.data_hash,
                r.seed,
                r.mode,
                self.symbols,
                tuple(s.id for s in self.slots),
                r.version,
            )
        )
        for s in self.series:
            rej = s.rejections
            if rej is not None and rej.total:
                self.emit(DataRejected(first_time, s.symbol, rej.source, rej.as_dict()))
        for slot in self.slots:
            ctx = StrategyContext(
                id=slot.id,
                symbols=tuple(self.symbols[i] for i in slot.symbol_ids),
                interval_ns=self.series[slot.symbol_ids[0]].interval_ns,
            )
            ctx.emit = self.emit
            try:
                slot.strategy.on_start(ctx)
            except Exception as exc:
                self._fail(slot, exc, first_time)

    async def _replay(self) -> None:
        order = merge_series(self.series)
        n = len(order)
        offsets = np.cumsum([0] + [len(s) for s in self.series[:-1]])
        all_close = np.concatenate([s.close for s in self.series])
        names = self.symbols
        histories = self.histories
        subs = self._subs
        counts = self.counts
        marks = self.marks
        pending = self.sim.pending
        annotate = self._annotate
        substitute = self._substitute
        decide = self._decide
        decide_bar = self._decide_bar
        # Marking is inlined for the common case (no shields watching equity, no periodic
        # marks): it runs once per moment for every portfolio and is most of the per-bar cost
        # that is not the strategy's own work. It is the first half of _mark_step; a test runs
        # both paths on the same data and asserts identical curves.
        plain_marking = self._plain_marking()
        mark_step = self._mark_step
        book = [(slot, slot.portfolio, slot.portfolio.curve.append) for slot in self.slots]
        step_time = self.step_times.append
        new_snapshot = tuple.__new__
        no_annotations = EMPTY_ANNOTATIONS
        symbols = self.symbols
        unsettled = self.unsettled  # non-empty once this tick emitted an event
        settle = self.settle
        # Bars that closed at the current moment but were not the last to close then: they
        # are decided on together with the last one, once every bar of the moment is visible.
        group: list[tuple[int, int, float]] = []
        self._replaying = True
        begin = 0
        if self.settings.trade_from is not None:
            begin = self._warm_up(moments(order, self.series))[1]
        for start in range(begin, n, CHUNK):
            stop = min(n, start + CHUNK)
            sym_chunk = order.symbol[start:stop]
            row_chunk = order.row[start:stop]
            syms = sym_chunk.tolist()
            rows = row_chunk.tolist()
            times = order.time[start:stop].tolist()
            clocks = order.clock[start:stop].tolist()
            lasts = order.last_in_step[start:stop].tolist()
            closes = all_close[offsets[sym_chunk] + row_chunk].tolist()
            for k in range(stop - start):
                s = syms[k]
                r = rows[k]
                t = times[k]
                name = names[s]
                # 1. working orders meet this bar (decided at or before its open)
                if pending.get(name):
                    self._execute(s, r, t)
                # 2. the bar closes: it becomes visible
                counts[s] = r + 1
                px = closes[k]
                marks[name] = px
                if not lasts[k]:
                    group.append((s, t, px))
                    continue
                # 3. every bar of this moment is in: mark equity (shields see it) ...
                self.now = clocks[k]
                if plain_marking:
                    self.step_count += 1
                    step_time(t)
                    for slot, pf, record in book:
                        eq = pf.cash
                        if pf.positions:
                            slot.exposed_steps += 1
                            for sym, pos in pf.positions.items():
                                eq += pos.qty * marks[sym]
                        record(eq)
                else:
                    mark_step(t)
                # 4. ... then decide, on a snapshot per bar that closed now: the bars that
                # closed before the last one of the moment through the shared method, the last
                # (in a single-timeframe run with one symbol, the only one) inlined
                seen = tuple(counts)
                waiting: list[tuple[_Slot, Awaitable[Any], Snapshot]] | None = None
                if group:
                    waiting = []
                    for bar in group:
                        decide_bar(bar[0], bar[1], bar[2], seen, waiting)
                    group.clear()
                snap: Snapshot = new_snapshot(
                    Snapshot,
                    (t, name, px, seen, symbols, histories, s, False, no_annotations),
                )
                if annotate is not None:
                    snap = self._annotated(snap)
                for slot in subs[s]:
                    try:
                        if substitute is not None:
                            res = substitute(strategy_id=slot.id, snapshot=snap)
                            if res is None:
                                res = slot.strategy.on_bar(snap, slot.view)
                        else:
                            res = slot.strategy.on_bar(snap, slot.view)
                    except Exception as exc:
                        self._fail(slot, exc, t)
                        continue
                    if res is not None:
                        if res.__class__ is Signal or not inspect.isawaitable(res):
                            decide(slot, res, snap)
                        else:
                            if waiting is None:
                                waiting = []
                            waiting.append((slot, res, snap))
                if waiting:
                    # one decision round per moment, across every symbol that closed in it
                    await self._await_decisions(waiting)
                if unsettled:
                    settle()  # the tick's events are durable before the next bar
        self._replaying = False

    async def _await_decisions(
        self, waiting: Sequence[tuple[_Slot, Awaitable[Any], Snapshot]]
    ) -> None:
        """Await a moment's slow decisions concurrently; in replay the loop waits for all."""
        results = await asyncio.gather(*(aw for _, aw, _ in waiting), return_exceptions=True)
        for (slot, _, snap), res in zip(waiting, results, strict=True):
            if isinstance(res, BaseException):
                if not isinstance(res, Exception):
                    raise res
                self._fail(slot, res, snap.time)
            elif res is not None and slot.enabled:
                self._decide(slot, res, snap)

    def _annotated(self, snap: Snapshot) -> Snapshot:
        assert self._annotate is not None
        extra: dict[str, Any] = {}
        for part in reversed(self._annotate(snapshot=snap)):
            if part:
                extra.update(part)
        regime = extra.get("regime")
        if regime is not None and regime != self._regimes.get(snap.symbol):
            previous = self._regimes.get(snap.symbol)
            self._regimes[snap.symbol] = regime
            self.emit(
                RegimeChanged(
                    snap.time,
                    snap.symbol,
                    str(regime),
                    previous,
                    extra.get("regime_confidence"),
                )
            )
        return snap.with_annotations(extra) if extra else snap

    def _finish(self) -> None:
        last_time = self.step_times[-1] if self.step_times else 0
        for slot in self.slots:
            try:
                slot.strategy.on_stop()
            except Exception as exc:
                self._fail(slot, exc, last_time)
        summary = {
            s.id: {
                "final_equity": s.portfolio.curve[-1] if s.portfolio.curve else s.portfolio.cash,
                "cash": s.portfolio.cash,
                "positions": {k: p.qty for k, p in s.portfolio.positions.items()},
                "trades": len(s.portfolio.trades),
                "fees": s.portfolio.fees_paid,
                "errors": s.errors,
                "enabled": s.enabled,
            }
            for s in self.slots
        }
        self.emit(RunFinished(last_time, self.step_count, summary))
        self.settle()
        self.pm.hook.papertape_run_finished(run=self.run_facts(), results=summary)

    # ---------------------------------------------------------------------------------------
    # per step: marking and shields
    # ---------------------------------------------------------------------------------------

    def _mark_step(self, t: int) -> None:
        self.step_count += 1
        step = self.step_count
        self.step_times.append(t)
        marks = self.marks
        total = 0.0
        for slot in self.slots:
            pf = slot.portfolio
            eq = pf.cash
            if pf.positions:
                slot.exposed_steps += 1
                for sym, pos in pf.positions.items():
                    eq += pos.qty * marks[sym]
            pf.curve.append(eq)
            total += eq
            for sh in slot.shields:
                tr = sh.on_step(eq, t, step)
                if tr is not None:
                    self._transition(slot, sh, tr, t)
        for sh in self.global_shields:
            tr = sh.on_step(total, t, step)
            if tr is not None:
                self._transition(None, sh, tr, t)
        channel = self.settings.telemetry
        if channel is not None and step % channel.every == 0:
            self._offer_telemetry(channel, t)
        every = self.settings.mark_every
        if every and step % every == 0:
            for slot in self.slots:
                self.emit(EquityMarked(t, slot.id, slot.portfolio.curve[-1], slot.portfolio.cash))

    def _offer_telemetry(self, channel: TelemetryOutlet, t: int) -> None:
        """Build this step's sample and offer it (dropped, not waited for, when full)."""
        from papertape.engine.telemetry import (  # type: ignore[import-not-found,import-untyped,unused-ignore]
            TelemetrySample,
        )

        channel.offer(
            TelemetrySample(
                time=t,
                wall_time=time.time_ns(),
                equity={s.id: s.portfolio.curve[-1] for s in self.slots},
                positions={
                    s.id: {sym: p.qty for sym, p in s.portfolio.positions.items()}
                    for s in self.slots
                },
                marks=dict(self.marks),
                annotations={"regime": dict(self._regimes)} if self._regimes else {},
                lag_ns=self._lag_ns(),
            )
        )

    def _lag_ns(self) -> int | None:
        """Feed lag behind the wall clock (None in replay, where there is none)."""
        return None

    def _transition(self, slot: _Slot | None, shield: Shield, tr: Transition, t: int) -> None:
        owner = slot.id if slot is not None else GLOBAL
        if tr.state is ShieldState.NORMAL:
            self.emit(ShieldReleased(t, owner, shield.name, tr.reason))
            return
        self.emit(ShieldTripped(t, owner, shield.name, tr.state.name.lower(), tr.reason))
        if tr.state is ShieldState.HALTED:
            for victim in self.slots if slot is None else [slot]:
                if not victim.halted:
                    victim.halted = True
                    self._liquidate(victim, t, f"halted by {shield.name}")

    # ---------------------------------------------------------------------------------------
    # decisions → orders
    # ---------------------------------------------------------------------------------------

    def _decide(self, slot: _Slot, decision: Any, snap: Snapshot) -> None:
        if not slot.enabled:
            return
        signals = (decision,) if isinstance(decision, Signal) else decision
        try:
            for sig in signals:
                if not isinstance(sig, Signal):
                    raise StrategyError(f"on_bar returned {sig!r}, not a Signal")
                self._act(slot, sig, snap)
        except StrategyError as exc:
            self._fail(slot, exc, snap.time)
        except TypeError:
            self._fail(
                slot, StrategyError(f"on_bar returned {decision!r}, not Signal(s)"), snap.time
            )

    def _act(self, slot: _Slot, sig: Signal, snap: Snapshot) -> None:
        sym = sig.symbol or snap.symbol
        if sym not in self.marks:
            raise StrategyError(f"signal for {sym!r}, which has no price yet or is not in the run")
        t = snap.time
        self.emit(
            SignalEmitted(
                t,
                slot.id,
                sym,
                sig.target,  # StrEnum members are their own string values
                sig.order_type,
                sig.price,
                sig.stop_loss,
                sig.take_profit,
                sig.size,
                sig.reason,
                snap.symbol,
            )
        )
        if sig.order_type is not OrderType.MARKET and not _positive(sig.price):
            raise StrategyError(
                f"{sig.order_type} signal needs a positive price, got {sig.price!r}"
            )
        pf = slot.portfolio
        current = pf.qty(sym)
        working = self.sim.working(slot.id, sym)
        has_entry = any(o.role is OrderRole.ENTRY for o in working)
        target = sig.target
        sizes = self._sizes  # set only while an outside driver steps with its own sizes
        external = sizes is not None and slot.id in sizes
        if (
            not has_entry
            and not (external and target is not Target.FLAT)
            and (
                (target is Target.LONG and current > 0)
                or (target is Target.SHORT and current < 0)
                or (target is Target.FLAT and current == 0.0)
            )
        ):
            return  # already there: no churn, brackets stay
        price = self.marks[sym]
        if target is Target.FLAT:
            goal = 0.0
        else:
            if external:
                assert sizes is not None
                qty = float(sizes[slot.id])
            else:
                qty = slot.sizer.size(sig, snap, slot.view, price)
            if not (qty >= 0.0 and math.isfinite(qty)):
                source = "the external size" if external else f"sizer {slot.sizer.name!r}"
                raise StrategyError(f"{source} returned {qty!r}")
            goal = qty if target is Target.LONG else -qty
        delta = goal - current
        negligible = abs(delta) <= 1e-12 * max(abs(goal), abs(current), 1.0)
        if snap.stale:  # live feed went quiet: no new orders, working ones stay as they are
            if not negligible or has_entry:
                self.emit(
                    OrderVetoed(
                        t,
                        slot.id,
                        sym,
                        1 if delta >= 0 else -1,
                        0.0 if negligible else abs(delta),
                        0.0,
                        STALE_FEED,
                        f"stale snapshot: {self.stale_why(snap)}; working orders kept",
                    )
                )
            return
        for o in self.sim.cancel(slot.id, sym):
            self.emit(OrderCancelled(t, slot.id, o.id, sym, "replaced by a new signal"))
        if negligible:
            return
        delta = self._shielded(slot, sym, delta, price, t)
        if delta == 0.0:
            return
        opening = goal != 0.0
        self._submit(
            slot,
            sym,
            delta,
            sig.order_type,
            OrderRole.ENTRY,
            t,
            sig.price,
            sig.stop_loss if opening else None,
            sig.take_profit if opening else None,
        )

    def stale_why(self, snap: Snapshot) -> str:
        """Why ``snap`` is stale (live engines know more than replay, where nothing is)."""
        return "feed stale"

    def _shielded(self, slot: _Slot, sym: str, delta: float, price: float, t: int) -> float:
        if not slot.shields and not self.global_shields and not slot.halted:
            return delta
        pf = slot.portfolio
        requested = delta
        for sh in (*slot.shields, *self.global_shields):
            intent = OrderIntent(
                sym,
                delta,
                price,
                pf.qty(sym),
                pf.equity(self.marks),
                pf.gross_exposure(self.marks),
            )
            allowed, why = sh.allow(intent)
            if allowed != delta:
                self.emit(
                    OrderVetoed(
                        t,
                        slot.id,
                        sym,
                        1 if requested > 0 else -1,
                        abs(delta),
                        abs(allowed),
                        sh.name,
                        why,
                    )
                )
                delta = allowed
            if delta == 0.0:
                break
        if slot.halted and delta != 0.0:
            intent = OrderIntent(sym, delta, price, pf.qty(sym), 0.0, 0.0)
            delta = intent.reducing_part
        return delta

    def _submit(
        self,
        slot: _Slot,
        sym: str,
        delta: float,
        kind: OrderType,
        role: OrderRole,
        t: int,
        price: float | None = None,
        stop_loss: float | None = None,
        take_profit: float | None = None,
    ) -> None:
        side = Side.BUY if delta > 0 else Side.SELL
        order = Order(
            self.sim.next_order_id(),
            slot.id,
            sym,
            side,
            abs(delta),
            kind,
            role,
            t,
            price,
            reduce_only=role is OrderRole.LIQUIDATION,
            stop_loss=stop_loss,
            take_profit=take_profit,
        )
        self.sim.submit(order)
        if self._replaying:
            i = self._index[sym]
            times = self.series[i].time
            nxt = self.counts[i]
            # The next bar of ``sym`` opened before this decision (another symbol or a finer
            # timeframe closed inside it): the order waits for a bar that opens after now.
            if nxt < len(times) and times[nxt] < self.now:
                self._not_before[order.id] = self.now
        self.emit(
            OrderSubmitted(
                t,
                slot.id,
                order.id,
                sym,
                int(side),
                order.qty,
                kind,
                role,
                price,
                stop_loss,
                take_profit,
            )
        )

    def _liquidate(self, slot: _Slot, t: int, reason: str) -> None:
        for o in self.sim.cancel(slot.id):
            self.emit(OrderCancelled(t, slot.id, o.id, o.symbol, reason))
        for sym, pos in sorted(slot.portfolio.positions.items()):
            self._submit(slot, sym, -pos.qty, OrderType.MARKET, OrderRole.LIQUIDATION, t)

    # ---------------------------------------------------------------------------------------
    # execution and booking
    # ---------------------------------------------------------------------------------------

    def _execute(self, s: int, r: int, t: int) -> None:
        series = self.series[s]
        held: list[Order] = []
        if self._not_before:
            pending = self.sim.pending
            waiting = pending[series.symbol]
            not_before = self._not_before
            ready: list[Order] = []
            for o in waiting:
                after = not_before.get(o.id)
                if after is None:
                    ready.append(o)
                elif after > t:
                    held.append(o)
                else:
                    del not_before[o.id]
                    ready.append(o)
            if held:
                pending[series.symbol] = ready
        bar = (
            float(series.open[r]),
            float(series.high[r]),
            float(series.low[r]),
            float(series.close[r]),
        )
        by_id = self._by_id
        for fill in self.sim.on_bar(
            series.symbol,
            self.histories[s],
            r,
            t,
            bar,
            lambda strat, sym: by_id[strat].portfolio.qty(sym),
        ):
            self._book(by_id[fill.strategy], fill)
        if held:
            self.sim.pending.setdefault(series.symbol, []).extend(held)

    def _book(self, slot: _Slot, fill: Fill) -> None:
        pf = slot.portfolio
        step = self.step_count
        trades = pf.apply(fill, step)
        self.emit(
            OrderFilled(
                fill.time,
                slot.id,
                fill.order_id,
                fill.symbol,
                int(fill.side),
                fill.qty,
                fill.price,
                fill.fee,
                fill.slippage,
                fill.liquidity,
                fill.role,
                pf.cash,
                pf.qty(fill.symbol),
            )
        )
        for tr in trades:
            self.emit(
                TradeClosed(
                    fill.time,
                    slot.id,
                    tr.symbol,
                    tr.side,
                    tr.qty,
                    tr.entry_time,
                    tr.entry_price,
                    tr.exit_price,
                    tr.pnl,
                    tr.fees,
                    tr.bars_held,
                )
            )
        for sh in (*slot.shields, *self.global_shields):
            for tr in trades:
                t1 = sh.on_trade(tr, step)
                if t1 is not None:
                    self._transition(slot if sh in slot.shields else None, sh, t1, fill.time)
            t2 = sh.on_fill(fill, step)
            if t2 is not None:
                self._transition(slot if sh in slot.shields else None, sh, t2, fill.time)
        if fill.role is OrderRole.ENTRY and pf.qty(fill.symbol) == 0.0:
            for o in self.sim.cancel(slot.id, fill.symbol):  # flat: orphaned brackets go
                self.emit(OrderCancelled(fill.time, slot.id, o.id, o.symbol, "position closed"))
        try:
            slot.strategy.on_fill(fill)
        except Exception as exc:
            self._fail(slot, exc, fill.time)

    # ---------------------------------------------------------------------------------------
    # containment of user code
    # ---------------------------------------------------------------------------------------

    def _fail(self, slot: _Slot, exc: Exception, t: int) -> None:
        if not slot.enabled:
            return
        slot.errors += 1
        limit = self.settings.max_strategy_errors
        log.warning(
            "strategy %s raised %s: %s (%d/%d)",
            slot.id,
            type(exc).__name__,
            exc,
            slot.errors,
            limit,
            exc_info=slot.errors == 1,
        )
        self.emit(StrategyFailed(t, slot.id, f"{type(exc).__name__}: {exc}", slot.errors))
        if slot.errors >= limit:
            slot.enabled = False
            # New lists, not in-place removal: the loop may be iterating one of them right now.
            self._subs[:] = [[x for x in lst if x is not slot] for lst in self._subs]
            self.emit(StrategyDisabled(t, slot.id, f"{slot.errors} errors (limit {limit})"))
            self._liquidate(slot, t, "strategy disabled")


def _close_unawaited(res: Any) -> None:
    """Drop a warm-up decision's awaitable without running it (no "never awaited" warning)."""
    close = getattr(res, "close", None)
    if callable(close):
        close()


def _positive(x: float | None) -> bool:
    return x is not None and math.isfinite(x) and x > 0.0
