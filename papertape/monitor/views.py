"""The monitor's views of one moment: positions, shields, decisions, traders, feed health.

Plain mutable records that :class:`~papertape.monitor.state.MonitorState` fills while it
folds a run's events (no textual here).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["DecisionRecord", "FeedHealth", "PositionView", "ShieldView", "TraderView"]


@dataclass(slots=True)
class PositionView:
    """One open position of a trader.

    Attributes:
        symbol: Symbol held.
        qty: Signed quantity (base units; negative is short).
        entry_price: Average entry price of the open quantity.
        stop_price: Working stop-loss trigger, or None.
        target_price: Working take-profit price, or None.
    """

    symbol: str
    qty: float
    entry_price: float
    stop_price: float | None = None
    target_price: float | None = None

    def unrealised(self, mark: float | None) -> float:
        """Unrealised P&L at ``mark`` (0 when no price is known yet)."""
        return 0.0 if mark is None else (mark - self.entry_price) * self.qty


@dataclass(slots=True)
class ShieldView:
    """The state of one shield of a trader (``*`` for a portfolio-level shield).

    Attributes:
        name: Shield name.
        state: ``armed``, ``reduce_only``, ``halted`` or ``cooling_down``.
        reason: Why it is in that state.
        since: Market time (ns) of the last change.
    """

    name: str
    state: str
    reason: str
    since: int


@dataclass(slots=True)
class DecisionRecord:
    """One decision of a trader and what followed from it.

    Attributes:
        decision_id: ``<slot>#<n>`` for an LLM trader, ``<slot>@<seq>`` for a plain signal.
        strategy: Slot id.
        time: Market time of the decision (ns).
        symbol: Symbol decided on.
        action: ``BUY``/``SELL``/``HOLD``/``CLOSE`` (LLM) or the signal's target.
        reasoning: The trader's text (the LLM's reasoning or the signal's reason).
        llm: The whole ``llm_decision`` event, when there was one (prompt hash, raw output...).
        signal: The ``signal`` event, when one was emitted.
        orders: ``order`` events that the decision caused.
        fills: ``fill`` events of those orders.
        vetoes: ``veto`` events the decision met.
        outcome: The ``llm_outcome`` event once the trade closed, else None.
    """

    decision_id: str
    strategy: str
    time: int
    symbol: str
    action: str
    reasoning: str
    llm: dict[str, Any] | None = None
    signal: dict[str, Any] | None = None
    orders: list[dict[str, Any]] = field(default_factory=list)
    fills: list[dict[str, Any]] = field(default_factory=list)
    vetoes: list[dict[str, Any]] = field(default_factory=list)
    outcome: dict[str, Any] | None = None


@dataclass(slots=True)
class TraderView:
    """One trader (strategy slot) at a moment.

    Attributes:
        strategy: Slot id.
        initial_cash: Cash at the start.
        cash: Cash now.
        equity: Cash + positions at the last known prices.
        peak: Highest equity so far.
        curve: ``(time, equity)`` marks so far, in time order.
        positions: Open positions by symbol.
        trades: Round trips closed.
        realised: Realised P&L of those trades, net of fees.
        fees: Fees paid.
    """

    strategy: str
    initial_cash: float
    cash: float
    equity: float
    peak: float
    curve: list[tuple[int, float]] = field(default_factory=list)
    positions: dict[str, PositionView] = field(default_factory=dict)
    trades: int = 0
    realised: float = 0.0
    fees: float = 0.0

    @property
    def drawdown(self) -> float:
        """Fraction below the peak (0 at a new high)."""
        return 0.0 if self.peak <= 0 else max(0.0, 1.0 - self.equity / self.peak)

    @property
    def total_return(self) -> float:
        """Equity / initial cash - 1."""
        return 0.0 if self.initial_cash <= 0 else self.equity / self.initial_cash - 1.0


@dataclass(slots=True)
class FeedHealth:
    """Live feed state (replays keep the defaults).

    Attributes:
        connected: Whether the feed is connected (None: not a live run).
        connections: Connections so far (reconnects = connections - 1).
        gaps: Gaps detected.
        stale: Symbols whose data is stale, with the reason.
        lag_ns: Last known lag behind the wall clock (telemetry), or None.
    """

    connected: bool | None = None
    connections: int = 0
    gaps: int = 0
    stale: dict[str, str] = field(default_factory=dict)
    lag_ns: int | None = None
