"""What the monitor shows, as a pure model: journal events (and telemetry) folded at any time.

:class:`MonitorState` is everything a panel needs at one moment: equity and drawdown per trader,
positions with entry price, stops and targets, latest prices, regime, shield states, feed
health, the journal lines seen so far, per-decision records and a leaderboard.
``papertape.monitor.timeline.Timeline`` keeps every event (and telemetry sample) in order
and folds them on demand: ``Timeline.at(t)`` is the state as it was at market time ``t``
(the scrubber), ``Timeline.latest()`` the state now. No textual here: this module is tested
alone, on hand-made event lists.

Equity without telemetry: a finished journal has no per-step marks unless the run set
``journal.mark_every``. The fold marks each trader at every price it learns (``equity``
events, telemetry samples, fills): equity = cash + Σ position × last known price, so the curve
is exact at every fill and at every periodic mark, and flat in between.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from papertape.engine.telemetry import TelemetrySample
from papertape.monitor.views import (
    DecisionRecord,
    FeedHealth,
    PositionView,
    ShieldView,
    TraderView,
)

__all__ = [
    "DecisionRecord",
    "FeedHealth",
    "MonitorState",
    "PositionView",
    "ShieldView",
    "TraderView",
]

GLOBAL = "*"


@dataclass(slots=True)
class MonitorState:
    """Everything the monitor shows, as of :attr:`time`.

    Attributes:
        run_id: The run's id (from ``run_started``), or "".
        mode: ``backtest``, ``replay`` or ``live``.
        time: Market time of the last event or sample folded (ns).
        seq: ``seq`` of the last event folded (-1 before any).
        finished: Whether ``run_finished`` was folded.
        traders: Per slot id, in config order.
        prices: Latest price per symbol.
        regimes: Latest regime label per symbol.
        regime_probabilities: Latest regime probabilities per symbol (telemetry), if annotated.
        shields: Per slot id (``*`` for portfolio-level), per shield name.
        feed: Live feed health.
        journal: The events folded, in order (the journal panel filters them).
        decisions: Decision records by id, in order of decision.
    """

    run_id: str = ""
    mode: str = ""
    time: int = 0
    seq: int = -1
    finished: bool = False
    traders: dict[str, TraderView] = field(default_factory=dict)
    prices: dict[str, float] = field(default_factory=dict)
    regimes: dict[str, str] = field(default_factory=dict)
    regime_probabilities: dict[str, dict[str, float]] = field(default_factory=dict)
    shields: dict[str, dict[str, ShieldView]] = field(default_factory=dict)
    feed: FeedHealth = field(default_factory=FeedHealth)
    journal: list[dict[str, Any]] = field(default_factory=list)
    decisions: dict[str, DecisionRecord] = field(default_factory=dict)
    # last decision per slot, to attach its orders/vetoes; order id -> decision id for fills
    _open_decision: dict[str, str] = field(default_factory=dict)
    _order_decision: dict[int, str] = field(default_factory=dict)

    def leaderboard(self) -> list[TraderView]:
        """Traders by equity, best first (ties keep config order)."""
        return sorted(self.traders.values(), key=lambda tr: -tr.equity)

    def decision_for(self, seq: int) -> DecisionRecord | None:
        """The decision an event is part of, else its trader's last decision before it.

        Args:
            seq: The event's ``seq``.
        """
        event = next((ev for ev in self.journal if ev.get("seq") == seq), None)
        if event is None:
            return None
        best: DecisionRecord | None = None
        for rec in self.decisions.values():
            parts = [rec.llm, rec.signal, rec.outcome, *rec.orders, *rec.fills, *rec.vetoes]
            if any(p is not None and p.get("seq") == seq for p in parts):
                return rec
            first = rec.llm or rec.signal
            if (
                rec.strategy == event.get("strategy")
                and first is not None
                and int(first.get("seq", -1)) <= seq
            ):
                best = rec
        return best

    def last_decision(self, strategy: str | None) -> DecisionRecord | None:
        """The newest decision (of ``strategy`` when given)."""
        for rec in reversed(self.decisions.values()):
            if strategy is None or rec.strategy == strategy:
                return rec
        return None

    def trader(self, strategy: str) -> TraderView:
        """The trader of a slot id, created on first sight (journals without ``run_started``)."""
        tr = self.traders.get(strategy)
        if tr is None:
            tr = self.traders[strategy] = TraderView(strategy, 0.0, 0.0, 0.0, 0.0)
        return tr

    # -- folding ---------------------------------------------------------------------------

    def apply(self, event: Mapping[str, Any]) -> None:
        """Fold one journal event (a dict as written in ``events.jsonl``)."""
        ev = dict(event)
        kind = ev.get("kind", "")
        self.seq = int(ev.get("seq", self.seq + 1))
        t = ev.get("time")
        if isinstance(t, int):
            self.time = max(self.time, t)
        self.journal.append(ev)
        handler = _HANDLERS.get(kind)
        if handler is not None:
            handler(self, ev)

    def apply_sample(self, sample: TelemetrySample) -> None:
        """Fold one telemetry sample: marks, equity, regime probabilities, lag, feed counters.

        A sample older than what is already folded (a side file read after its journal)
        only updates the feed's health: its marks are superseded.
        """
        if sample.lag_ns is not None:
            self.feed.lag_ns = sample.lag_ns
        if sample.feed:
            connections = int(sample.feed.get("connections", 0))
            if connections > self.feed.connections:
                self.feed.connections = connections
            if self.feed.connected is None and connections:
                self.feed.connected = True
        if sample.time < self.time:
            # Older than what is folded (the side file or channel read after the journal):
            # its marks fill the equity curve in, the rest is superseded.
            for sid, eq in sample.equity.items():
                self._mark_earlier(self.trader(sid), sample.time, float(eq))
            return
        self.time = sample.time
        self.prices.update(sample.marks)
        for sid, eq in sample.equity.items():
            self._mark(self.trader(sid), sample.time, float(eq))
        regime = sample.annotations.get("regime")
        if isinstance(regime, Mapping):
            for sym, value in regime.items():
                if isinstance(value, Mapping):
                    label = value.get("label")
                    if isinstance(label, str):
                        self.regimes[str(sym)] = label
                    probs = value.get("probabilities")
                    if isinstance(probs, Mapping):
                        self.regime_probabilities[str(sym)] = {
                            str(k): float(v) for k, v in probs.items()
                        }
                elif isinstance(value, str):
                    self.regimes[str(sym)] = value

    def _mark(self, tr: TraderView, t: int, equity: float) -> None:
        tr.equity = equity
        tr.peak = max(tr.peak, equity)
        if tr.curve and tr.curve[-1][0] == t:
            tr.curve[-1] = (t, equity)
        else:
            tr.curve.append((t, equity))

    @staticmethod
    def _mark_earlier(tr: TraderView, t: int, equity: float) -> None:
        """Insert a mark older than the trader's newest one, in time order."""
        i = bisect.bisect_left(tr.curve, t, key=lambda point: point[0])
        if i < len(tr.curve) and tr.curve[i][0] == t:
            return  # the journal's own mark at t wins
        tr.curve.insert(i, (t, equity))
        tr.peak = max(tr.peak, equity)

    def remark(self, tr: TraderView, t: int) -> None:
        """Mark a trader at the latest known prices (cash + Σ qty × price)."""
        eq = tr.cash
        for pos in tr.positions.values():
            eq += pos.qty * self.prices.get(pos.symbol, pos.entry_price)
        self._mark(tr, t, eq)


def _run_started(st: MonitorState, ev: dict[str, Any]) -> None:
    st.run_id = str(ev.get("run_id", ""))
    st.mode = str(ev.get("mode", ""))
    cash = ev.get("initial_cash") or {}
    for sid in ev.get("strategies", ()):
        c = float(cash.get(sid, 0.0))
        st.traders[sid] = TraderView(sid, c, c, c, c, [(int(ev["time"]), c)])


def _fill(st: MonitorState, ev: dict[str, Any]) -> None:
    tr = st.trader(ev["strategy"])
    sym, price, qty, side = ev["symbol"], float(ev["price"]), float(ev["qty"]), int(ev["side"])
    st.prices[sym] = price
    tr.cash = float(ev["cash_after"])
    tr.fees += float(ev.get("fee", 0.0))
    after = float(ev["position_after"])
    pos = tr.positions.get(sym)
    before = pos.qty if pos is not None else 0.0
    if abs(after) < 1e-12:
        tr.positions.pop(sym, None)
    elif pos is None or before * after < 0:  # opened, or flipped through zero
        tr.positions[sym] = PositionView(sym, after, price)
    elif abs(after) > abs(before):  # added: average the entry price
        pos.entry_price = (pos.entry_price * abs(before) + price * qty) / abs(after)
        pos.qty = after
    else:  # reduced: the entry price of what is left does not change
        pos.qty = after
    del side
    decision = st._order_decision.get(int(ev["order_id"]))
    if decision is not None and decision in st.decisions:
        st.decisions[decision].fills.append(ev)
    for other in st.traders.values():
        if any(p.symbol == sym for p in other.positions.values()) or other is tr:
            st.remark(other, int(ev["time"]))


def _trade(st: MonitorState, ev: dict[str, Any]) -> None:
    tr = st.trader(ev["strategy"])
    tr.trades += 1
    tr.realised += float(ev["pnl"])


def _equity(st: MonitorState, ev: dict[str, Any]) -> None:
    tr = st.trader(ev["strategy"])
    tr.cash = float(ev["cash"])
    st._mark(tr, int(ev["time"]), float(ev["equity"]))


def _bracket(st: MonitorState, ev: dict[str, Any]) -> None:
    pos = st.trader(ev["strategy"]).positions.get(ev["symbol"])
    if pos is not None:
        pos.stop_price = ev.get("stop_price")
        pos.target_price = ev.get("target_price")


def _leg_gone(st: MonitorState, ev: dict[str, Any]) -> None:
    """A cancelled stop/target leg no longer protects the position."""
    tr = st.traders.get(ev.get("strategy", ""))
    if tr is None:
        return
    pos = tr.positions.get(ev.get("symbol", ""))
    if pos is None:
        return
    for order in reversed(st.journal):
        if order.get("kind") == "bracket_placed" and order.get("symbol") == pos.symbol:
            if order.get("stop_order_id") == ev["order_id"]:
                pos.stop_price = None
            if order.get("target_order_id") == ev["order_id"]:
                pos.target_price = None
            break


def _shield_tripped(st: MonitorState, ev: dict[str, Any]) -> None:
    st.shields.setdefault(ev["strategy"], {})[ev["shield"]] = ShieldView(
        ev["shield"], str(ev["state"]), str(ev["reason"]), int(ev["time"])
    )


def _shield_released(st: MonitorState, ev: dict[str, Any]) -> None:
    reason = str(ev["reason"])
    state = "cooling_down" if "cool" in reason.lower() else "armed"
    st.shields.setdefault(ev["strategy"], {})[ev["shield"]] = ShieldView(
        ev["shield"], state, reason, int(ev["time"])
    )


def _regime(st: MonitorState, ev: dict[str, Any]) -> None:
    st.regimes[ev["symbol"]] = str(ev["regime"])
    conf = ev.get("confidence")
    if conf is not None:
        st.regime_probabilities[ev["symbol"]] = {str(ev["regime"]): float(conf)}


def _llm_decision(st: MonitorState, ev: dict[str, Any]) -> None:
    decided = ev.get("decision") or {}
    rec = DecisionRecord(
        str(ev["decision_id"]),
        ev["strategy"],
        int(ev["time"]),
        str(ev.get("symbol", "")),
        str(ev.get("action", "")),
        str(decided.get("reasoning", ev.get("detail", ""))),
        llm=ev,
    )
    st.decisions[rec.decision_id] = rec
    st._open_decision[rec.strategy] = rec.decision_id


def _signal(st: MonitorState, ev: dict[str, Any]) -> None:
    sid, reason = ev["strategy"], str(ev.get("reason", ""))
    linked = reason[1 : reason.index("]")] if reason.startswith("[") and "]" in reason else None
    if linked is not None and linked in st.decisions:
        st.decisions[linked].signal = ev
        st._open_decision[sid] = linked
        return
    rec = DecisionRecord(
        f"{sid}@{ev['seq']}",
        sid,
        int(ev["time"]),
        str(ev["symbol"]),
        str(ev["target"]),
        reason,
        signal=ev,
    )
    st.decisions[rec.decision_id] = rec
    st._open_decision[sid] = rec.decision_id


def _order(st: MonitorState, ev: dict[str, Any]) -> None:
    if ev.get("role") != "entry":  # bracket legs and liquidations follow from a fill
        return
    decision = st._open_decision.get(ev["strategy"])
    if decision is not None and decision in st.decisions:
        st.decisions[decision].orders.append(ev)
        st._order_decision[int(ev["order_id"])] = decision


def _veto(st: MonitorState, ev: dict[str, Any]) -> None:
    decision = st._open_decision.get(ev["strategy"])
    if decision is not None and decision in st.decisions:
        st.decisions[decision].vetoes.append(ev)


def _llm_outcome(st: MonitorState, ev: dict[str, Any]) -> None:
    rec = st.decisions.get(str(ev["decision_id"]))
    if rec is not None:
        rec.outcome = ev


def _feed_connected(st: MonitorState, ev: dict[str, Any]) -> None:
    st.feed.connected = True
    st.feed.connections = int(ev["connection"])


def _feed_disconnected(st: MonitorState, ev: dict[str, Any]) -> None:
    st.feed.connected = False


def _feed_gap(st: MonitorState, ev: dict[str, Any]) -> None:
    st.feed.gaps += 1


def _feed_stale(st: MonitorState, ev: dict[str, Any]) -> None:
    st.feed.stale[ev["symbol"]] = str(ev["reason"])


def _feed_fresh(st: MonitorState, ev: dict[str, Any]) -> None:
    st.feed.stale.pop(ev["symbol"], None)


def _run_finished(st: MonitorState, ev: dict[str, Any]) -> None:
    st.finished = True
    for sid, summary in (ev.get("summary") or {}).items():
        final = summary.get("final_equity") if isinstance(summary, Mapping) else None
        if isinstance(final, int | float):
            st._mark(st.trader(sid), int(ev["time"]), float(final))


_HANDLERS = {
    "run_started": _run_started,
    "fill": _fill,
    "trade": _trade,
    "equity": _equity,
    "bracket_placed": _bracket,
    "oco_cancelled": _leg_gone,
    "shield_tripped": _shield_tripped,
    "shield_released": _shield_released,
    "regime_changed": _regime,
    "llm_decision": _llm_decision,
    "signal": _signal,
    "order": _order,
    "veto": _veto,
    "llm_outcome": _llm_outcome,
    "feed_connected": _feed_connected,
    "feed_disconnected": _feed_disconnected,
    "feed_gap": _feed_gap,
    "feed_stale": _feed_stale,
    "feed_fresh": _feed_fresh,
    "run_finished": _run_finished,
}
