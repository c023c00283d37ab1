"""Every event and sample of a run, foldable at any market time: the scrubber's model."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from typing import Any

from papertape.engine.telemetry import TelemetrySample
from papertape.monitor.state import MonitorState

__all__ = ["Timeline"]


class Timeline:
    """Every event and sample of a run so far, foldable at any market time.

    Events keep their journal order; samples are merged in by market time (a sample at t
    comes after the events at t, as the engine offers it at the end of the step).
    """

    def __init__(self) -> None:
        self._items: list[tuple[int, int, dict[str, Any] | TelemetrySample]] = []
        self._keys: list[tuple[int, int]] = []
        self._times: list[int] = []  # distinct times, ascending
        self._latest = MonitorState()

    def __len__(self) -> int:
        return len(self._items)

    def add_event(self, event: Mapping[str, Any]) -> None:
        """Append one journal event (they arrive in ``seq`` order)."""
        ev = dict(event)
        t = ev.get("time")
        when = t if isinstance(t, int) else (self._keys[-1][0] if self._keys else 0)
        self._insert(when, 0, ev)
        self._latest.apply(ev)

    def add_sample(self, sample: TelemetrySample) -> None:
        """Add one telemetry sample."""
        self._insert(sample.time, 1, sample)
        self._latest.apply_sample(sample)

    def extend(self, events: Iterable[Mapping[str, Any]]) -> None:
        """Append many events."""
        for ev in events:
            self.add_event(ev)

    def _insert(self, t: int, rank: int, item: dict[str, Any] | TelemetrySample) -> None:
        key = (t, rank)
        if not self._times or t > self._times[-1]:
            self._times.append(t)
        elif t < self._times[-1]:
            j = bisect.bisect_left(self._times, t)
            if self._times[j] != t:
                self._times.insert(j, t)
        if not self._keys or key >= self._keys[-1]:  # the usual case: O(1), not O(n)
            self._keys.append(key)
            self._items.append((t, rank, item))
            return
        i = bisect.bisect_right(self._keys, key)
        self._keys.insert(i, key)
        self._items.insert(i, (t, rank, item))

    @property
    def times(self) -> list[int]:
        """Distinct market times held, ascending (the scrubber's stops; do not modify)."""
        return self._times

    @property
    def start(self) -> int:
        """First market time held (0 when empty)."""
        return self._keys[0][0] if self._keys else 0

    @property
    def end(self) -> int:
        """Last market time held (0 when empty)."""
        return self._times[-1] if self._times else 0

    def latest(self) -> MonitorState:
        """The state after everything held (kept up to date incrementally)."""
        return self._latest

    def at(self, t: int) -> MonitorState:
        """The state as it was at market time ``t``: everything at or before ``t`` folded."""
        st = MonitorState()
        for when, _, item in self._items:
            if when > t:
                break
            if isinstance(item, TelemetrySample):
                st.apply_sample(item)
            else:
                st.apply(item)
        return st
