"""The tick loop: feed events → snapshot → annotate → strategies → size → shields → execute → book.

One :class:`Engine` runs one session. It composes the stages of :mod:`papertape.engine.pipeline`
(replay driving, marking and shields, order making, booking, containment) and owns the run's
life cycle and its event batch. The replay path walks a merged, preloaded event order in chunks
(numpy → Python lists once per chunk, so the per-bar work is plain Python on floats and ints)
and touches pluggy only for rare things: annotation (when a plugin implements it), substituted
decisions, and one ``papertape_events`` call per tick that emitted events. Strategies are called
directly. The same stages serve the stepping API (``start``/``step``/``finish``) and the live
engine.

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
import logging
import operator
from array import array
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from papertape.engine.containment import CONTAINED, CallWatch, StopRequest
from papertape.engine.delivery import EventDelivery
from papertape.engine.errors import ExecutionError, RunInterrupted, StrategyError
from papertape.engine.events import DataRejected, Event, RegimeChanged, RunFinished, RunStarted
from papertape.engine.execution.account import BuyingPower
from papertape.engine.market import ReplayHistory, SymbolHistory
from papertape.engine.pipeline.booking import Booking
from papertape.engine.pipeline.guard import StrategyGuard
from papertape.engine.pipeline.marking import Marking
from papertape.engine.pipeline.orders import OrderDesk
from papertape.engine.pipeline.replay import ReplayDriver
from papertape.engine.pipeline.state import (
    GLOBAL,
    STALE_FEED,
    EngineSettings,
    RunInfo,
    Slot,
    SlotSpec,
    TelemetryOutlet,
)
from papertape.engine.portfolio import Portfolio, PortfolioView
from papertape.engine.snapshot import Snapshot
from papertape.engine.strategy import StrategyContext

if TYPE_CHECKING:
    import pluggy

    from papertape.engine.feeds.base import BarSeries
    from papertape.engine.risk.base import Shield
    from papertape.engine.stepping import Moment

__all__ = [
    "GLOBAL",
    "STALE_FEED",
    "Engine",
    "EngineSettings",
    "RunInfo",
    "SlotSpec",
    "TelemetryOutlet",
]

log = logging.getLogger("papertape.engine")
_Slot = Slot  # the name earlier code imported

_KIND = operator.attrgetter("kind")


class Engine(ReplayDriver, OrderDesk, Booking, Marking, StrategyGuard):
    """Runs strategies over bar series and records everything that happens.

    The stages live in :mod:`papertape.engine.pipeline`; this class owns the run's state,
    its life cycle (start, finish) and the event batch.
    """

    # Live engines act on each slow decision when it arrives instead of waiting for a round;
    # strategies learn it as ``ctx.live`` (an LLM trader then orders only its own records).
    live: bool = False

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
        self.event_counts: Counter[str] = Counter()  # events per kind, settled ticks
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
        self.slots: list[Slot] = []
        self._by_id: dict[str, Slot] = {}
        index = {name: i for i, name in enumerate(names)}
        self._subs: list[list[Slot]] = [[] for _ in names]
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
            slot = Slot(
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
        self._stop_request = StopRequest()  # replaced by run(); step() has none
        self._watch = CallWatch(0.0)  # replaced by run(): the per-call time budget
        self._buying_power = BuyingPower(
            {s.id: s.portfolio for s in self.slots},
            self.marks,
            self.emit,
            {s.id: s.sizer.lot_size for s in self.slots},
        )

    def emit(self, event: Event) -> None:
        """Add one event to the current tick's batch (counted and delivered by :meth:`settle`).

        The hot stages append to :attr:`unsettled` themselves (the same thing without a
        Python call per event).
        """
        self.unsettled.append(event)

    def settle(self) -> None:
        """End a tick that emitted events: one ``papertape_events`` call makes them durable.

        The loop calls this after every tick that emitted events, before the next tick; it is
        a no-op when nothing was emitted since the last call. A consumer's exception is
        contained and counted as the consumer's (:attr:`consumer_errors`).
        """
        if self.unsettled:
            self.event_counts.update(map(_KIND, self.unsettled))  # counted in C, per tick
            self.delivery.deliver()

    @property
    def consumer_errors(self) -> dict[str, int]:
        """Exceptions raised by event consumers, per plugin name (contained, never a strategy's)."""
        return self.delivery.errors

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
        """Replay every bar of every series through the pipeline.

        Raises:
            RunInterrupted: Ctrl-C stopped the replay at the end of a step (resumable).
        """
        from papertape.engine.pipeline.replay import ReplayDriver

        stop = self._stop_request = StopRequest()
        self._watch = CallWatch(
            self.settings.strategy_budget_s,
            (ReplayDriver._replay.__code__, ReplayDriver._decide_bar.__code__),
        )
        with stop.installed(), self._watch.running():
            self._start()
            self.settle()
            try:
                await self._replay()
            except asyncio.CancelledError:  # Ctrl-C while awaiting slow decisions
                if not stop.flag[0]:
                    raise
            if stop.flag[0]:
                self.settle()
                raise RunInterrupted(
                    f"interrupted: stopped after step {self.step_count:,} of the replay, its "
                    "events journaled; continue with `papertape run --resume <run folder>`",
                    self.step_count,
                    self.step_times[-1] if self.step_times else 0,
                )
            self._finish()

    def run_sync(self) -> None:
        """Run to completion from synchronous code."""
        asyncio.run(self.run())

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
                {s.id: s.portfolio.initial_cash for s in self.slots},
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
            ctx.live = self.live
            ctx.trade_from = self.settings.trade_from
            # the decision hook, so a strategy made of others (the ensemble voter) can have
            # its members' decisions supplied too; None when no plugin supplies any
            ctx.substitute = self._substitute
            try:
                slot.strategy.on_start(ctx)
            except CONTAINED as exc:
                err = StrategyError(f"on_start raised {type(exc).__name__}: {exc}")
                self._fail(slot, err, first_time, disable=f"on_start failed ({exc})")

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
            except CONTAINED as exc:
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
