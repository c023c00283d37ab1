"""What a journal says about a run, folded from its events: portfolios, orders, shields.

:func:`fold` reads events in order and keeps, per strategy, the cash and positions after the
last fill (fills carry ``cash_after`` and ``position_after``, so no arithmetic is redone),
closed trades, fees, the orders still working and the shields' last states. It needs nothing
but the journal; ``papertape journal show`` prints it, and tests compare it with the engine's
own portfolios.

Working orders are those the journal shows submitted and neither filled in full nor cancelled.
The simulator places stop-loss/take-profit legs of brackets and drops exhausted reduce-only
orders without journal events, so those are not listed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["JournalState", "StrategyState", "WorkingOrder", "fold"]

_EPS = 1e-12


@dataclass(slots=True)
class WorkingOrder:
    """An order the journal shows as submitted and not yet done."""

    order_id: int
    symbol: str
    side: int
    qty: float
    filled: float
    order_type: str
    role: str
    price: float | None


@dataclass(slots=True)
class StrategyState:
    """One strategy's book as the journal tells it."""

    strategy: str
    cash: float | None = None  # None until the first fill (the journal has no initial cash)
    positions: dict[str, float] = field(default_factory=dict)
    fills: int = 0
    fees: float = 0.0
    trades: int = 0
    realised_pnl: float = 0.0  # Σ closed-trade pnl, net of fees
    orders: dict[int, WorkingOrder] = field(default_factory=dict)
    shields: dict[str, str] = field(default_factory=dict)
    enabled: bool = True
    errors: int = 0


@dataclass(slots=True)
class JournalState:
    """The fold of a whole (or partial) journal."""

    run_id: str = ""
    events: int = 0
    last_time: int = 0
    finished: bool = False
    kinds: dict[str, int] = field(default_factory=dict)
    strategies: dict[str, StrategyState] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)

    def strategy(self, sid: str) -> StrategyState:
        """The state of ``sid`` (created empty on first use)."""
        st = self.strategies.get(sid)
        if st is None:
            st = self.strategies[sid] = StrategyState(sid)
        return st


def fold(
    events: Iterable[Mapping[str, Any]], initial_cash: Mapping[str, float] | None = None
) -> JournalState:
    """Fold journal records (dicts, as :func:`~engine.journal.jsonl.read_journal` yields).

    Args:
        events: Records in journal order.
        initial_cash: Starting cash per strategy (from the run's config), used until a
            strategy's first fill.
    """
    state = JournalState()
    for sid, cash in (initial_cash or {}).items():
        state.strategy(sid).cash = cash
    for rec in events:
        kind = str(rec.get("kind"))
        state.events += 1
        state.kinds[kind] = state.kinds.get(kind, 0) + 1
        state.last_time = max(state.last_time, int(rec.get("time") or 0))
        _apply(state, kind, rec)
    return state


def _apply(state: JournalState, kind: str, rec: Mapping[str, Any]) -> None:
    if kind == "run_started":
        state.run_id = str(rec.get("run_id", ""))
        for sid in rec.get("strategies") or ():
            state.strategy(str(sid))
        return
    if kind == "run_finished":
        state.finished = True
        state.summary = dict(rec.get("summary") or {})
        return
    sid = rec.get("strategy")
    if not isinstance(sid, str):
        return
    # "*" is a portfolio-level shield: it concerns every strategy.
    targets = list(state.strategies.values()) if sid == "*" else [state.strategy(sid)]
    for st in targets:
        _apply_one(st, kind, rec)


def _apply_one(st: StrategyState, kind: str, rec: Mapping[str, Any]) -> None:
    if kind == "order":
        oid = int(rec["order_id"])
        st.orders[oid] = WorkingOrder(
            oid,
            str(rec["symbol"]),
            int(rec["side"]),
            float(rec["qty"]),
            0.0,
            str(rec.get("order_type")),
            str(rec.get("role")),
            rec.get("price"),
        )
    elif kind == "fill":
        st.fills += 1
        st.cash = rec["cash_after"]
        st.fees += float(rec.get("fee") or 0.0)
        sym = str(rec["symbol"])
        pos = rec["position_after"]
        if pos:
            st.positions[sym] = pos
        else:
            st.positions.pop(sym, None)
        order = st.orders.get(int(rec["order_id"]))
        if order is not None:
            order.filled += float(rec["qty"])
            if order.filled >= order.qty - _EPS * max(order.qty, 1.0):
                del st.orders[order.order_id]
    elif kind == "cancel":
        st.orders.pop(int(rec["order_id"]), None)
    elif kind == "trade":
        st.trades += 1
        st.realised_pnl += float(rec.get("pnl") or 0.0)
    elif kind == "shield_tripped":
        st.shields[str(rec["shield"])] = str(rec.get("state"))
    elif kind == "shield_released":
        st.shields.pop(str(rec["shield"]), None)
    elif kind == "strategy_failed":
        st.errors = int(rec.get("errors_so_far") or st.errors + 1)
    elif kind == "strategy_disabled":
        st.enabled = False
