"""The telemetry channel: a lossy, bounded stream of samples for monitors, beside the journal.

Monitors (the TUI, a Prometheus exporter) want equity, positions, marks, regime probabilities
and feed lag every step; the journal must not carry them (it would dominate the stream and
its bytes must not depend on who watches). The engine ``offer``s a :class:`TelemetrySample`
every ``every`` steps to a :class:`TelemetryChannel`; the offer never blocks and never fails:
when the consumer is behind and the buffer is full the sample is dropped and counted. So a
slow or absent monitor can neither slow the loop nor change a run's results.

Threading: one producer (the engine) and one consumer (a monitor thread, or a coroutine with
:meth:`TelemetryChannel.stream`). Every operation takes one short lock; none waits for the
other side.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from papertape.engine.errors import ConfigError

__all__ = ["TelemetryChannel", "TelemetrySample"]


@dataclass(frozen=True, slots=True)
class TelemetrySample:
    """What a monitor sees of one engine step.

    Attributes:
        time: Market time of the step, ns since the epoch.
        wall_time: Wall-clock time the sample was taken (``time.time()``, seconds).
        equity: Equity per strategy id (cash + positions at ``marks``), quote currency.
        positions: Signed quantity per strategy id, then per symbol.
        marks: Last price per symbol.
        annotations: Snapshot annotations (regime label and probabilities, features...).
        lag_ns: Wall-clock delay of the step behind its market time (live feeds), else None.
        feed: The live feed's counters (connections, reconnects, gaps...) when a
            :class:`~papertape.engine.telemetry_file.TelemetryFile` added them, else None.
    """

    time: int
    wall_time: float
    equity: Mapping[str, float]
    positions: Mapping[str, Mapping[str, float]]
    marks: Mapping[str, float]
    annotations: Mapping[str, Any]
    lag_ns: int | None = None
    feed: Mapping[str, Any] | None = None


class TelemetryChannel:
    """A bounded, never-blocking buffer of samples: drops the newest when full, counts drops.

    Args:
        capacity: Samples held for the consumer at most.
        every: The engine samples every ``every``-th step (1 = every step).

    Raises:
        ConfigError: ``capacity`` or ``every`` below 1.
    """

    def __init__(self, capacity: int = 4096, every: int = 1) -> None:
        if capacity < 1:
            raise ConfigError("telemetry.capacity", capacity, "must be >= 1")
        if every < 1:
            raise ConfigError("telemetry.every", every, "must be >= 1")
        self.capacity = capacity
        self.every = every
        self.offered = 0
        self.dropped = 0
        self._samples: deque[TelemetrySample] = deque()
        self._lock = threading.Lock()
        self._closed = False
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    def offer(self, sample: TelemetrySample) -> bool:
        """Hand over one sample; never blocks. False when it was dropped (buffer full/closed)."""
        with self._lock:
            self.offered += 1
            if self._closed or len(self._samples) >= self.capacity:
                self.dropped += 1
                return False
            self._samples.append(sample)
            waiters = self._waiters
            self._waiters = []
        for loop, ready in waiters:
            loop.call_soon_threadsafe(ready.set)
        return True

    def drain(self) -> list[TelemetrySample]:
        """Take every buffered sample, oldest first (possibly none)."""
        with self._lock:
            out = list(self._samples)
            self._samples.clear()
        return out

    def close(self) -> None:
        """No more samples: offers are dropped and :meth:`stream` ends once drained."""
        with self._lock:
            self._closed = True
            waiters = self._waiters
            self._waiters = []
        for loop, ready in waiters:
            loop.call_soon_threadsafe(ready.set)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def __len__(self) -> int:
        with self._lock:
            return len(self._samples)

    async def stream(self) -> AsyncIterator[TelemetrySample]:
        """Yield samples as they arrive (for asyncio monitors) until the channel is closed."""
        loop = asyncio.get_running_loop()
        while True:
            batch = self.drain()
            for sample in batch:
                yield sample
            if batch:
                continue
            ready = asyncio.Event()
            with self._lock:
                if self._samples:
                    continue
                if self._closed:
                    return
                self._waiters.append((loop, ready))
            await ready.wait()

    def __aiter__(self) -> AsyncIterator[TelemetrySample]:
        return self.stream()
