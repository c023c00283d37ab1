"""Evaluation windows: disjoint periods of the tape, each shown with warm-up history first.

A window is evaluated from its first bar to its last. Before it, ``warmup_bars`` bars are
replayed as history only: they are in every snapshot (indicator windows, an LLM's prompt), but
no strategy is asked to decide on them (:class:`WindowGate`), so every trader starts the window
flat with its starting cash. A strategy that keeps its own running state (``sma_cross`` updates
its averages bar by bar) starts that state at the window's first bar, as at the start of any
backtest; one that reads the snapshot's windows (``momentum``, ``llm_trader``) sees the warm-up.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from papertape.engine.errors import ConfigError
from papertape.engine.feeds.base import BarSeries
from papertape.engine.strategy import Decision, Strategy

if TYPE_CHECKING:
    from papertape.arena.config import WindowSpec
    from papertape.engine.execution.orders import Fill
    from papertape.engine.portfolio import PortfolioView
    from papertape.engine.snapshot import Snapshot
    from papertape.engine.strategy import StrategyContext

__all__ = ["Window", "WindowGate", "plan_windows", "slice_window"]


@dataclass(frozen=True, slots=True)
class Window:
    """One evaluation period: bars stamped in ``[start, end]`` (ns, inclusive)."""

    index: int
    start: int
    end: int

    @property
    def label(self) -> str:
        """``2004-01-02..2006-12-29``."""
        return f"{_day(self.start)}..{_day(self.end)}"


def _day(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).strftime("%Y-%m-%d")


def _all_times(series: Sequence[BarSeries]) -> np.ndarray[Any, np.dtype[np.int64]]:
    return np.unique(np.concatenate([s.time for s in series]))


def plan_windows(
    series: Sequence[BarSeries], windows: int | Sequence[WindowSpec], warmup_bars: int
) -> list[Window]:
    """Turn ``[arena] windows`` into concrete windows over the data.

    An integer N splits the timestamps after the first ``warmup_bars`` into N runs of equal
    length (the last takes the remainder). Explicit windows are clipped to the data.

    Raises:
        ConfigError: Too little data for N windows, or an explicit window with no bars.
    """
    times = _all_times(series)
    if isinstance(windows, int):
        usable = len(times) - warmup_bars
        if usable < 2 * windows:
            raise ConfigError(
                "arena.windows",
                windows,
                f"{len(times)} timestamps minus {warmup_bars} warm-up bars leave too few bars",
            )
        size = usable // windows
        out = []
        for i in range(windows):
            a = warmup_bars + i * size
            b = warmup_bars + (i + 1) * size - 1 if i < windows - 1 else len(times) - 1
            out.append(Window(i, int(times[a]), int(times[b])))
        return out
    planned = []
    for i, spec in enumerate(windows):
        inside = times[(times >= spec.start_ns) & (times <= spec.end_ns)]
        if len(inside) < 2:
            raise ConfigError(
                f"arena.windows.{i}", f"{spec.start}..{spec.end}", "fewer than 2 bars of data"
            )
        planned.append(Window(i, int(inside[0]), int(inside[-1])))
    return planned


def slice_window(series: Sequence[BarSeries], window: Window, warmup_bars: int) -> list[BarSeries]:
    """Each symbol's bars of the window, preceded by up to ``warmup_bars`` bars of history."""
    out = []
    for s in series:
        first = int(np.searchsorted(s.time, window.start, side="left"))
        stop = int(np.searchsorted(s.time, window.end, side="right"))
        lo = max(0, first - warmup_bars)
        if stop <= first:
            raise ConfigError(
                "arena.windows", window.label, f"{s.symbol} has no bars in this window"
            )
        out.append(
            BarSeries.from_arrays(
                s.symbol,
                s.time[lo:stop],
                s.open[lo:stop],
                s.high[lo:stop],
                s.low[lo:stop],
                s.close[lo:stop],
                s.volume[lo:stop],
                s.source,
            )
        )
    return out


class WindowGate(Strategy):
    """Wraps a strategy so it is asked to decide only on bars stamped at or after ``start``.

    Everything else (start, fills, stop, stats and any attribute) goes to the wrapped strategy,
    so results and journals carry its name, parameters and figures.
    """

    def __init__(self, inner: Strategy, start: int) -> None:
        # No Strategy.__init__: parameters are the wrapped strategy's own.
        self.inner = inner
        self.start = start
        self.params = inner.params
        self.p = inner.p
        self.__dict__["name"] = inner.name  # shadows the class's registry name

    def __getattr__(self, item: str) -> Any:
        return getattr(self.inner, item)

    def on_start(self, ctx: StrategyContext) -> None:
        """Start the wrapped strategy."""
        self.inner.on_start(ctx)

    def on_bar(self, snap: Snapshot, portfolio: PortfolioView) -> Decision | Awaitable[Decision]:
        """Nothing before the window; the wrapped strategy's decision from then on."""
        if snap.time < self.start:
            return None
        return self.inner.on_bar(snap, portfolio)

    def on_fill(self, fill: Fill) -> None:
        """Forward the fill."""
        self.inner.on_fill(fill)

    def on_stop(self) -> None:
        """Stop the wrapped strategy."""
        self.inner.on_stop()

    def stats(self) -> dict[str, Any]:
        """The wrapped strategy's figures."""
        return self.inner.stats()
