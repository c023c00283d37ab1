"""What the arena keeps of each window's run: curves, positions, trades, fees and decisions.

:class:`EventTap` listens to the event stream (a pluggy plugin, like the journal writer) and
collects the fills, LLM decisions and regime changes of a run; :func:`trader_runs` turns an
engine that has finished into one :class:`TraderRun` per strategy, cut to the window.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from papertape.engine.hookspecs import hookimpl
from papertape.engine.metrics import ClosedTrade, PerformanceReport, compute_metrics

if TYPE_CHECKING:
    from papertape.engine.events import Event
    from papertape.engine.feeds.base import BarSeries

__all__ = ["EventTap", "FillRecord", "TraderRun", "positions_by_step"]


@dataclass(frozen=True, slots=True)
class FillRecord:
    """One fill, reduced to what the arena needs."""

    time: int
    symbol: str
    qty: float  # signed: + bought, - sold
    price: float
    fee: float


@dataclass(slots=True)
class EventTap:
    """Collects fills, LLM decisions and regime changes per strategy from the event stream."""

    fills: dict[str, list[FillRecord]] = field(default_factory=dict)
    decisions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    regimes: list[dict[str, Any]] = field(default_factory=list)

    @hookimpl
    def papertape_events(self, events: Sequence[Event]) -> None:
        """Keep the events the leaderboard and the report read (one call per tick)."""
        for event in events:
            kind = event.kind
            if kind == "fill":
                rec = event.record()
                self.fills.setdefault(rec["strategy"], []).append(
                    FillRecord(
                        event.time,
                        rec["symbol"],
                        float(rec["qty"]) * int(rec["side"]),
                        float(rec["price"]),
                        float(rec["fee"]),
                    )
                )
            elif kind == "llm_decision":
                rec = event.record()
                self.decisions.setdefault(rec["strategy"], []).append(rec)
            elif kind == "regime_changed":
                self.regimes.append(event.record())


@dataclass(frozen=True, slots=True)
class TraderRun:
    """One trader in one window.

    Attributes:
        id: Slot id.
        strategy: Registered strategy name.
        equity: Equity at each step of the window (the first point is the starting cash).
        side: Sign of the net position after each step: +1 long, -1 short, 0 flat.
        trades: Round trips closed in the window.
        fees: Fees paid in the window.
        fills: Every fill in the window (open positions included).
        decisions: ``llm_decision`` records (empty for other strategies).
        stats: ``Strategy.stats()``.
        metrics: Performance of ``equity``.
        errors: Strategy errors.
        enabled: False when the engine switched the strategy off.
    """

    id: str
    strategy: str
    equity: NDArray[np.float64]
    side: NDArray[np.int8]
    trades: tuple[ClosedTrade, ...]
    fees: float
    fills: tuple[FillRecord, ...]
    decisions: tuple[dict[str, Any], ...]
    stats: dict[str, Any]
    metrics: PerformanceReport
    errors: int
    enabled: bool


def positions_by_step(
    fills: Sequence[FillRecord],
    times: NDArray[np.int64],
    series: Mapping[str, BarSeries],
) -> NDArray[np.int8]:
    """Sign of the net position value (quantity × last close, over symbols) after each step."""
    out = np.zeros(len(times), dtype=np.int8)
    if not fills:
        return out
    symbols = sorted({f.symbol for f in fills})
    value = np.zeros(len(times), dtype=np.float64)
    for sym in symbols:
        mine = [f for f in fills if f.symbol == sym]
        ft = np.array([f.time for f in mine], dtype=np.int64)
        qty = np.cumsum([f.qty for f in mine])
        idx = np.searchsorted(ft, times, side="right") - 1
        held = np.where(idx >= 0, qty[np.maximum(idx, 0)], 0.0)
        s = series[sym]
        mark_idx = np.maximum(np.searchsorted(s.time, times, side="right") - 1, 0)
        value += held * s.close[mark_idx]
    scale = max(float(np.abs(value).max()), 1.0)
    out[value > 1e-12 * scale] = 1
    out[value < -1e-12 * scale] = -1
    return out


def window_metrics(
    equity: NDArray[np.float64],
    times: NDArray[np.int64],
    trades: Sequence[ClosedTrade],
    side: NDArray[np.int8],
) -> PerformanceReport:
    """Metrics of a window's curve, with exposure from the positions held."""
    return compute_metrics(equity, times, list(trades), exposure_mask=side != 0)
