"""Recorded decisions: a run's journal answers ``papertape_decision`` instead of its strategies.

:class:`RecordedDecisions` indexes a journal's ``signal`` events by (strategy id, snapshot time,
bar symbol) and serves them, rebuilt as :class:`Signal` objects (order type, price, brackets,
size hint and reason as recorded), whenever the engine asks a slot to decide; where the strategy
decided nothing it serves an empty list. ``swap={"A": "B"}`` gives slot A the recorded decisions
of slot B (what-if); ``live={"A"}`` lets slot A's own strategy object (a real one the caller put
in the slot) decide inside the window, and serves A's recorded decisions outside it.

No model and no strategy runs in a replay, and none is even built: every slot is filled by a
:class:`RecordedSlot` placeholder (registry name ``recorded``) whatever its config names, so an
LLM trader's model is never loaded and no user strategy code is instantiated. What the
placeholders reproduce so that an unchanged replay is byte-identical to the journal:

* an LLM slot's ``llm_decision`` records are re-emitted at the point of the tick where the trader
  emitted them (its decision is served as an awaitable, as the trader's was, so it comes after
  the tick's synchronous decisions, in slot order);
* its ``llm_outcome`` records are recomputed from the replay's own fills with the trader's own
  :class:`~papertape.plugins.llm.outcomes.TradeLinker` (so with other fees they show the new P&L);
* recorded ``regime_changed`` events become the ``regime`` annotation again
  (:class:`RecordedRegimes`), so regime-aware sizers see what they saw, without the detector.

Not reproduced (a replay of such a journal reports where it first differs): failures of user
code (``strategy_failed``), and decisions a strategy would have taken *because* the replayed
run differs (an LLM trader's extra decision after a stop that now fills on another bar).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from papertape.engine.errors import ConfigError
from papertape.engine.events import EVENT_KINDS
from papertape.engine.execution.orders import OrderType, Signal, Target
from papertape.engine.hookspecs import hookimpl
from papertape.engine.strategy import Strategy, StrategyContext

if TYPE_CHECKING:
    from collections.abc import Callable

    from papertape.engine.events import Event
    from papertape.engine.execution.orders import Fill
    from papertape.engine.portfolio import PortfolioView
    from papertape.engine.snapshot import Snapshot
    from papertape.plugins.llm.outcomes import TradeLinker

__all__ = ["RecordedDecisions", "RecordedRegimes", "RecordedSlot", "signal_of"]

Key = tuple[str, int, str]  # (strategy id, snapshot time, bar symbol)


def signal_of(record: Mapping[str, Any]) -> Signal:
    """Rebuild the :class:`Signal` a journaled ``signal`` event records."""
    return Signal(
        Target(record["target"]),
        symbol=record["symbol"],
        order_type=OrderType(record["order_type"]),
        price=record["price"],
        stop_loss=record["stop_loss"],
        take_profit=record["take_profit"],
        size=record["size"],
        reason=record["reason"],
    )


def _note_event(record: Mapping[str, Any], slot: str, source: str) -> Event:
    """A recorded ``llm_decision``/``member_dropped`` as the replayed ``slot`` emits it.

    The record's strategy is renamed from the slot it was recorded for (``source``) to
    ``slot`` (a swap), an ensemble member's ``<source>/<member>`` to ``<slot>/<member>``.
    """
    fields = {k: v for k, v in record.items() if k not in ("kind", "seq")}
    who = str(fields["strategy"])
    if who == source:
        fields["strategy"] = slot
    elif who.startswith(source + "/"):
        fields["strategy"] = slot + who[len(source) :]
    return EVENT_KINDS[record["kind"]](**fields)


class RecordedDecisions:
    """A pluggy plugin serving a journal's decisions (see the module docs).

    Args:
        records: The journal's events as dicts, in order.
        swap: Slot id -> the recorded slot whose decisions it takes (what-if).
        window: ``(start, end)`` in ns (either may be None: open-ended): the swap applies only
            to snapshots with ``start <= time <= end``; outside it a slot replays its own
            decisions. None: the swap applies to the whole run.
        live: Slots whose strategy decides for real inside the window (no answer is served
            there, so the engine calls the strategy); outside it they replay their own.

    Raises:
        ConfigError: ``swap`` names a slot the journal does not record.
    """

    def __init__(
        self,
        records: Iterable[Mapping[str, Any]],
        swap: Mapping[str, str] | None = None,
        window: tuple[int | None, int | None] | None = None,
        live: Iterable[str] = (),
    ) -> None:
        self.swap = dict(swap or {})
        self.window = window
        self.live = frozenset(live)
        self._signals: dict[Key, list[Mapping[str, Any]]] = defaultdict(list)
        self._notes: dict[Key, list[Mapping[str, Any]]] = defaultdict(list)
        self._slots: dict[str, RecordedSlot] = {}
        self.strategies: tuple[str, ...] = ()
        own_llm: set[str] = set()
        for rec in records:
            kind = rec.get("kind")
            if kind == "signal":
                bar = rec.get("bar_symbol") or rec["symbol"]
                self._signals[(rec["strategy"], int(rec["time"]), bar)].append(rec)
            elif kind in ("llm_decision", "member_dropped"):
                # an ensemble member's records ("<slot>/<member>") belong to its slot
                slot = self._slot_of(rec["strategy"])
                self._notes[(slot, int(rec["time"]), rec["symbol"])].append(rec)
                if kind == "llm_decision" and slot == rec["strategy"]:
                    own_llm.add(slot)
            elif kind == "run_started":
                self.strategies = tuple(rec.get("strategies", ()))
        self.llm_slots = frozenset(own_llm)
        unknown = {b for b in self.swap.values() if b not in self.strategies}
        if self.strategies and unknown:
            raise ConfigError("swap", sorted(unknown), f"not a recorded slot ({self.strategies})")

    def inside(self, time: int) -> bool:
        """Whether ``time`` lies in the swap's window (always, without a window)."""
        if self.window is None:
            return True
        start, end = self.window
        return (start is None or time >= start) and (end is None or time <= end)

    def _slot_of(self, strategy: str) -> str:
        """The recorded slot a record's ``strategy`` belongs to (itself, or an ensemble's)."""
        if strategy in self.strategies or "/" not in strategy:
            return strategy
        head = strategy.split("/", 1)[0]
        return head if head in self.strategies else strategy

    def source(self, slot: str, time: int | None = None) -> str:
        """The recorded slot whose decisions ``slot`` replays (at ``time``, if given)."""
        if time is not None and not self.inside(time):
            return slot
        return self.swap.get(slot, slot)

    def attach(self, slot: RecordedSlot) -> None:
        """Let a placeholder receive what its slot emits (called from its ``on_start``)."""
        self._slots[slot.id] = slot

    @hookimpl
    def papertape_decision(self, strategy_id: str, snapshot: Snapshot) -> object | None:
        """The recorded decision of the slot's source for this snapshot ([] for none).

        None (the strategy decides itself) for a live slot inside the window, and for an id
        the journal does not record and no swap names: e.g. an ensemble voter whose members,
        and only they, replay recorded traders.
        """
        if strategy_id in self.live and self.inside(snapshot.time):
            return None  # the slot's real strategy decides
        source = self.source(strategy_id, snapshot.time)
        if self.strategies and source not in self.strategies:
            return None
        key = (source, snapshot.time, snapshot.symbol)
        records = self._signals.get(key, ())
        notes = self._notes.get(key)
        if notes is None:
            return [signal_of(r) for r in records]
        # an ensemble's drop-outs of members that decided at once were journaled at once;
        # everything else of the slot (LLM records, slow members' drop-outs) in the slow round
        slow = [n for n in notes if n["kind"] == "llm_decision" or n.get("awaited", True)]
        slot = self._slots.get(strategy_id)
        for note in notes:
            if slot is not None and note not in slow:
                slot.publish(_note_event(note, strategy_id, source))
        if not slow:
            return [signal_of(r) for r in records]
        return self._deliberate(strategy_id, source, slow, records)

    async def _deliberate(
        self,
        slot_id: str,
        source: str,
        notes: list[Mapping[str, Any]],
        records: Iterable[Mapping[str, Any]],
    ) -> list[Signal]:
        """An LLM slot's recorded decision, delivered like the trader's (an awaitable)."""
        slot = self._slots.get(slot_id)
        for note in notes:
            if slot is not None:
                slot.publish(_note_event(note, slot_id, source))
        signals = [signal_of(r) for r in records]
        if slot is not None:
            reasoning = {
                n["decision_id"]: (n.get("decision") or {}).get("reasoning", "")
                for n in notes
                if n["kind"] == "llm_decision"
            }
            for sig in signals:
                slot.expect(sig, reasoning)
        return signals


class RecordedSlot(Strategy):
    """The placeholder standing in for every slot of a replay (never decides by itself).

    Args:
        decisions: The plugin serving this replay's decisions.
    """

    name: ClassVar[str] = "recorded"

    def __init__(self, decisions: RecordedDecisions | None = None, **params: Any) -> None:
        super().__init__(**params)
        self.decisions = decisions
        self.id = ""
        self.view: PortfolioView | None = None
        self._emit: Callable[[Event], None] | None = None
        self._linker: TradeLinker | None = None

    def on_start(self, ctx: StrategyContext) -> None:
        """Register with the plugin; an LLM slot gets a trade linker for its outcomes."""
        self.id = str(ctx.id)
        self._emit = getattr(ctx, "emit", None)
        if self.decisions is None:
            return
        self.decisions.attach(self)
        if self.decisions.source(self.id) in self.decisions.llm_slots:
            from papertape.plugins.llm.outcomes import TradeLinker

            self._linker = TradeLinker(self.id)

    def on_bar(self, snap: Snapshot, portfolio: PortfolioView) -> None:
        """Nothing: the plugin answers for this slot (a slot without records stays idle)."""
        return None

    def publish(self, event: Event) -> None:
        """Emit one of this slot's own records."""
        if self._emit is not None:
            self._emit(event)

    def expect(self, sig: Signal, reasoning: Mapping[str, str]) -> None:
        """Mark a served LLM signal as the source of its entry fills (what the trader does)."""
        if self._linker is None or self.view is None or not sig.reason.startswith("["):
            return
        decision_id = sig.reason[1 : sig.reason.find("]")]
        sym = sig.symbol or ""
        held = self.view.qty(sym)
        opening = (sig.target is Target.LONG and held <= 0.0) or (
            sig.target is Target.SHORT and held >= 0.0
        )
        if opening or (sig.target is Target.FLAT and held != 0.0):
            self._linker.expect(sym, decision_id, reasoning.get(decision_id, ""))

    def on_fill(self, fill: Fill) -> None:
        """Recompute the ``llm_outcome`` of trades this fill closed (LLM slots only)."""
        view = self.view
        if self._linker is None or view is None:
            return
        for event in self._linker.follow(fill, view)[0]:
            self.publish(event)


class RecordedRegimes:
    """Serves recorded ``regime_changed`` events as the ``regime`` annotation (no detector)."""

    def __init__(self, records: Iterable[Mapping[str, Any]]) -> None:
        self._changes: dict[tuple[int, str], tuple[str, float | None]] = {}
        for rec in records:
            if rec.get("kind") == "regime_changed":
                self._changes[(int(rec["time"]), rec["symbol"])] = (
                    rec["regime"],
                    rec.get("confidence"),
                )
        self._current: dict[str, tuple[str, float | None]] = {}

    def __bool__(self) -> bool:
        return bool(self._changes)

    @hookimpl
    def papertape_annotate(self, snapshot: Snapshot) -> Mapping[str, Any] | None:
        """The regime in force for the snapshot's symbol, as recorded."""
        change = self._changes.get((snapshot.time, snapshot.symbol))
        if change is not None:
            self._current[snapshot.symbol] = change
        now = self._current.get(snapshot.symbol)
        if now is None:
            return None
        return {"regime": now[0], "regime_confidence": now[1]}
