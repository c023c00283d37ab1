"""Stepping a replay from outside: one moment of the clock per call.

:meth:`Engine.step <papertape.engine.loop.Engine.step>` advances a replay by exactly one
moment of the bar-close clock (every bar closing then: fills, visibility, marks, shields,
decisions) and returns a :class:`StepResult`. A driver such as a gymnasium environment calls
``engine.start()``, then ``engine.step(sizes)`` until ``result.done``, then ``engine.finish()``;
``sizes`` gives a slot an externally chosen position size for that step in place of its sizer.
``engine.run()`` stays the fast path: the same pipeline, inlined over preloaded chunks.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from papertape.engine.events import Event
    from papertape.engine.feeds.base import BarSeries, EventOrder

__all__ = ["CHUNK", "Moment", "StepResult", "moments"]

CHUNK = 65_536
Moment = tuple[int, list[tuple[int, int, int, float]]]  # (clock, [(symbol, row, time, close)])


class StepResult(NamedTuple):
    """What one step of a replay did.

    A NamedTuple, not a frozen dataclass: one is built per step, and the dataclass cost about
    1 µs more to construct (half a bar of the fast path).

    Attributes:
        time: Stamp of the step (open time of the latest bar that closed), as in ``step_times``.
        clock: The moment of the clock (ns): when the step's bars closed and decisions were taken.
        fills: The step's ``fill`` events (orders decided earlier that met this step's bars).
        equity: Equity per strategy id, marked at this step's closes.
        events: Every event the step emitted, in order (the same batch consumers received).
        done: True when this was the replay's last step; further calls raise.
    """

    time: int
    clock: int
    fills: tuple[Event, ...]
    equity: Mapping[str, float]
    events: tuple[Event, ...]
    done: bool


def moments(order: EventOrder, series: Sequence[BarSeries]) -> Iterator[Moment]:
    """Yield the replay's moments: each clock time with the bars that close then, in order.

    Converts the event order to Python values a chunk at a time, like the fast path.
    """
    n = len(order)
    offsets = np.cumsum([0] + [len(s) for s in series[:-1]])
    all_close = np.concatenate([s.close for s in series])
    group: list[tuple[int, int, int, float]] = []
    for start in range(0, n, CHUNK):
        stop = min(n, start + CHUNK)
        sym_chunk = order.symbol[start:stop]
        row_chunk = order.row[start:stop]
        closes = all_close[offsets[sym_chunk] + row_chunk].tolist()
        bars = zip(
            sym_chunk.tolist(),
            row_chunk.tolist(),
            order.time[start:stop].tolist(),
            closes,
            strict=True,
        )
        for bar, clock, last in zip(
            bars,
            order.clock[start:stop].tolist(),
            order.last_in_step[start:stop].tolist(),
            strict=True,
        ):
            group.append(bar)
            if last:
                yield clock, group
                group = []
