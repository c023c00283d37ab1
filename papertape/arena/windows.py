"""Evaluation windows: disjoint periods of the tape, each shown with warm-up history first.

A window is evaluated from its first bar to its last. It runs as the core's window
(``[run] start``/``end``/``warmup_bars``, docs/pipeline.md §4): the ``warmup_bars`` bars
before it are replayed to every strategy, which may warm its indicators on them (in every
snapshot, in ``on_bar``), and the engine drops every decision taken on them, so every trader
starts the window flat with its starting cash. Strategies that remember a requested stance use
:class:`~papertape.engine.strategy.TargetMemory` built with their context, which forgets the
warm-up's stances; the LLM trader's model is not asked about a warm-up bar.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from papertape.engine.errors import ConfigError

if TYPE_CHECKING:
    from papertape.arena.config import WindowSpec
    from papertape.engine.feeds.base import BarSeries

__all__ = ["Window", "plan_windows"]


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
