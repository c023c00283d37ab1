"""Driving a replay: the fast chunked path (``run``) and stepping from outside.

Both walk the moments of the bar-close clock (see :mod:`papertape.engine.loop`): fills on the
bars closing now, then visibility, marking and the moment's decisions, gathered in one round.
``_replay`` inlines that body over preloaded chunks for speed; ``start``/``step``/``finish``
run the same stages one moment per call (``_moment``). A test holds the two to the same fills.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from papertape.engine.containment import CONTAINED
from papertape.engine.errors import ExecutionError
from papertape.engine.execution.orders import Signal
from papertape.engine.feeds.base import merge_series
from papertape.engine.pipeline.state import EngineState, Slot
from papertape.engine.snapshot import EMPTY_ANNOTATIONS, Snapshot
from papertape.engine.stepping import CHUNK, Moment, StepResult, moments

__all__ = ["ReplayDriver"]


class ReplayDriver(EngineState):
    """Replay driving: the fast path and the stepping API."""

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
        waiting: list[tuple[Slot, Awaitable[Any], Snapshot]] = []
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
                    except CONTAINED as exc:
                        self._fail(slot, exc, t)
            self.settle()
        return None, bars_done

    def _decide_bar(
        self,
        s: int,
        t: int,
        px: float,
        seen: tuple[int, ...],
        waiting: list[tuple[Slot, Awaitable[Any], Snapshot]],
        stale: bool = False,
    ) -> None:
        """Snapshot of bar ``s`` (stamped ``t``, closed at ``px``), its strategies' decisions.

        Awaitable decisions go to ``waiting`` (the moment's round); the rest are acted on now.
        ``stale`` marks a live snapshot taken while the feed is not trustworthy.
        """
        names = self.symbols
        fields = (t, names[s], px, seen, names, self.histories, s, stale, EMPTY_ANNOTATIONS)
        snap: Snapshot = tuple.__new__(Snapshot, fields)  # NamedTuple's __new__: twice the cost
        if self._annotate is not None:
            snap = self._annotated(snap)
        substitute = self._substitute
        active = self._watch.active  # call-in-progress markers (containment.CallWatch)
        active[1] = snap
        for slot in self._subs[s]:
            try:
                res = None
                if substitute is not None:
                    res = substitute(strategy_id=slot.id, snapshot=snap)
                if res is None:
                    active[0] = slot
                    res = slot.strategy.on_bar(snap, slot.view)
                    active[0] = None
            except CONTAINED as exc:
                active[0] = None
                self._fail(slot, exc, t)
                continue
            if res is None:
                continue
            if res.__class__ is Signal or not inspect.isawaitable(res):
                self._decide(slot, res, snap)
            else:
                waiting.append((slot, res, snap))

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
        stop_requested = self._stop_request.flag  # [True] after a Ctrl-C
        active = self._watch.active  # call-in-progress markers (containment.CallWatch)
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
                waiting: list[tuple[Slot, Awaitable[Any], Snapshot]] | None = None
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
                active[1] = snap
                for slot in subs[s]:
                    try:
                        if substitute is not None:
                            res = substitute(strategy_id=slot.id, snapshot=snap)
                            if res is None:
                                active[0] = slot
                                res = slot.strategy.on_bar(snap, slot.view)
                                active[0] = None
                        else:
                            active[0] = slot
                            res = slot.strategy.on_bar(snap, slot.view)
                            active[0] = None
                    except CONTAINED as exc:
                        active[0] = None
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
                if stop_requested[0]:
                    break  # Ctrl-C: the moment is complete and committed; run() reports it
            if stop_requested[0]:
                break
        self._replaying = False

    async def _await_decisions(
        self, waiting: Sequence[tuple[Slot, Awaitable[Any], Snapshot]]
    ) -> None:
        """Await a moment's slow decisions concurrently; in replay the loop waits for all."""
        results = await self._stop_request.gather([aw for _, aw, _ in waiting])
        for (slot, _, snap), res in zip(waiting, results, strict=True):
            if isinstance(res, BaseException):
                if not isinstance(res, CONTAINED):
                    raise res
                self._fail(slot, res, snap.time)
            elif res is not None and slot.enabled:
                self._decide(slot, res, snap)


def _close_unawaited(res: Any) -> None:
    """Drop a warm-up decision's awaitable without running it (no "never awaited" warning)."""
    close = getattr(res, "close", None)
    if callable(close):
        close()
