"""The tick loop: feed events → snapshot → annotate → strategies → size → shields → execute → book.

One :class:`Engine` runs one session. The replay path walks a merged, preloaded event order in
chunks (numpy → Python lists once per chunk, so the per-bar work is plain Python on floats and
ints) and touches pluggy only for rare things: annotation (when a plugin implements it) and
events (signals, orders, fills, shields). Strategies are called directly.

Per bar of symbol ``s`` at row ``r``:

1. working orders of ``s`` meet bar ``r`` (they were decided on an earlier bar);
2. the bar becomes visible: counts, last price, a new immutable :class:`Snapshot`;
3. annotators, then each strategy subscribed to ``s``; their signals are sized, checked by
   shields and queued for the *next* bar of their symbol;
4. at the last event of a timestamp every portfolio is marked (equity = cash + positions) and
   shields that watch equity see it.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
from array import array
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

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
CHUNK = 65_536
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


@dataclass
class EngineSettings:
    """Engine-wide behaviour (the config maps onto this)."""

    simulator: ExecutionSimulator = field(default_factory=ExecutionSimulator)
    max_strategy_errors: int = 3
    mark_every: int = 0


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
        self.step = 0
        self.step_times: array[int] = array("q")
        self.global_shields = list(global_shields)
        self.event_counts: dict[str, int] = {}
        self._emit_hook = pm.hook.papertape_event
        self._tick_end_hook = pm.hook.papertape_tick_end
        # Non-empty while the current tick has events not yet handed to papertape_tick_end
        # (a list, so the replay loop can test a local alias for free on quiet bars).
        self.unsettled: list[bool] = []
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
        """Hand one event to every ``papertape_event`` implementation."""
        self.event_counts[event.kind] = self.event_counts.get(event.kind, 0) + 1
        self._emit_hook(event=event)
        if not self.unsettled:
            self.unsettled.append(True)

    def settle(self) -> None:
        """End a tick that emitted events: ``papertape_tick_end`` makes them durable.

        The loop calls this after every tick that emitted events, before the next tick; it is
        a no-op when nothing was emitted since the last call.
        """
        if self.unsettled:
            self.unsettled.clear()
            self._tick_end_hook()

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

    def _start(self) -> None:
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
        # Marking is inlined for the common case (no shields watching equity, no periodic
        # marks): it runs once per timestamp for every portfolio and is most of the per-bar cost
        # that is not the strategy's own work. It is the first half of _mark_step; a test runs
        # both paths on the same data and asserts identical curves.
        plain_marking = (
            not self.global_shields
            and not self.settings.mark_every
            and not any(slot.shields for slot in self.slots)
        )
        mark_step = self._mark_step
        book = [(slot, slot.portfolio, slot.portfolio.curve.append) for slot in self.slots]
        step_time = self.step_times.append
        new_snapshot = tuple.__new__
        no_annotations = EMPTY_ANNOTATIONS
        symbols = self.symbols
        unsettled = self.unsettled  # non-empty once this tick emitted an event
        settle = self.settle
        for start in range(0, n, CHUNK):
            stop = min(n, start + CHUNK)
            sym_chunk = order.symbol[start:stop]
            row_chunk = order.row[start:stop]
            syms = sym_chunk.tolist()
            rows = row_chunk.tolist()
            times = order.time[start:stop].tolist()
            lasts = order.last_in_step[start:stop].tolist()
            closes = all_close[offsets[sym_chunk] + row_chunk].tolist()
            for k in range(stop - start):
                s = syms[k]
                r = rows[k]
                t = times[k]
                name = names[s]
                if pending.get(name):
                    self._execute(s, r, t)
                counts[s] = r + 1
                px = closes[k]
                marks[name] = px
                snap: Snapshot = new_snapshot(
                    Snapshot,
                    (t, name, px, tuple(counts), symbols, histories, s, False, no_annotations),
                )
                if annotate is not None:
                    snap = self._annotated(snap)
                waiting: list[tuple[_Slot, Awaitable[Any]]] | None = None
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
                            waiting.append((slot, res))
                if waiting is not None:
                    await self._await_decisions(waiting, snap)
                if lasts[k]:
                    if plain_marking:
                        self.step += 1
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
                if unsettled:
                    settle()  # the tick's events are durable before the next bar

    async def _await_decisions(
        self, waiting: list[tuple[_Slot, Awaitable[Any]]], snap: Snapshot
    ) -> None:
        """Await a tick's slow decisions concurrently; in replay the loop waits for all."""
        results = await asyncio.gather(*(aw for _, aw in waiting), return_exceptions=True)
        for (slot, _), res in zip(waiting, results, strict=True):
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
        self.emit(RunFinished(last_time, self.step, summary))
        self.settle()
        self.pm.hook.papertape_run_finished(run=self.run_facts(), results=summary)

    # ---------------------------------------------------------------------------------------
    # per step: marking and shields
    # ---------------------------------------------------------------------------------------

    def _mark_step(self, t: int) -> None:
        self.step += 1
        step = self.step
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
        every = self.settings.mark_every
        if every and step % every == 0:
            for slot in self.slots:
                self.emit(EquityMarked(t, slot.id, slot.portfolio.curve[-1], slot.portfolio.cash))

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
        if not has_entry and (
            (target is Target.LONG and current > 0)
            or (target is Target.SHORT and current < 0)
            or (target is Target.FLAT and current == 0.0)
        ):
            return  # already there: no churn, brackets stay
        price = self.marks[sym]
        if target is Target.FLAT:
            goal = 0.0
        else:
            qty = slot.sizer.size(sig, snap, slot.view, price)
            if not (qty >= 0.0 and math.isfinite(qty)):
                raise StrategyError(f"sizer {slot.sizer.name!r} returned {qty!r}")
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
        bar = (
            float(series.open[r]),
            float(series.high[r]),
            float(series.low[r]),
            float(series.close[r]),
        )
        by_id = self._by_id
        notices = self.sim.notices
        for fill in self.sim.on_bar(
            series.symbol,
            self.histories[s],
            r,
            t,
            bar,
            lambda strat, sym: by_id[strat].portfolio.qty(sym),
        ):
            if notices:
                self._notify(notices)
            self._book(by_id[fill.strategy], fill)
        if notices:
            self._notify(notices)

    def _notify(self, notices: list[Event]) -> None:
        """Emit the simulator's bracket and OCO events (in the order it made them)."""
        for event in notices:
            self.emit(event)
        notices.clear()

    def _book(self, slot: _Slot, fill: Fill) -> None:
        pf = slot.portfolio
        step = self.step
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


def _positive(x: float | None) -> bool:
    return x is not None and math.isfinite(x) and x > 0.0
