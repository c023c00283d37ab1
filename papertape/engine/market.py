"""Per-symbol market state: rolling OHLCV windows as read-only views, last prices, top of book.

Two storages share one interface, :class:`SymbolHistory`:

* :class:`ReplayHistory` wraps a loaded :class:`~engine.feeds.base.BarSeries`. The loaded columns
  already are the preallocated, read-only store, so a replay writes nothing per bar: advancing a
  bar moves a cursor, and a window is a slice of the loaded column (zero copy).
* :class:`RingHistory` is for live feeds: preallocated columns of twice the capacity, each value
  written at ``i`` and ``i + capacity`` so that the last ``n`` values are always one contiguous
  slice. The ring writes through one array per column and hands out slices of a second array
  over the same memory through a read-only ``memoryview``, so no window can be made writeable.

Replay columns sit on immutable ``bytes`` (see :func:`~engine.feeds.base.immutable`) and ring
windows on read-only memory: ``flags.writeable = True`` raises on every array a strategy gets.

A window is addressed by the number of bars seen (``count``) when the snapshot was taken, so a
window taken from an old snapshot never shows a later bar; a ring that has since overwritten
the requested bars raises :class:`~engine.errors.SnapshotError` instead of returning wrong data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import NDArray

from papertape.engine.errors import SnapshotError
from papertape.engine.feeds.base import immutable

if TYPE_CHECKING:
    from papertape.engine.feeds.base import BarSeries

__all__ = ["Field", "ReplayHistory", "RingHistory", "SymbolHistory", "TopOfBook"]

Field = Literal["time", "open", "high", "low", "close", "volume"]
_FIELDS: tuple[Field, ...] = ("time", "open", "high", "low", "close", "volume")


@dataclass(frozen=True, slots=True)
class TopOfBook:
    """Best bid and ask with their sizes, when the feed provides a book."""

    bid: float
    bid_size: float
    ask: float
    ask_size: float

    @property
    def mid(self) -> float:
        """Mid price."""
        return (self.bid + self.ask) / 2.0

    @property
    def spread(self) -> float:
        """Ask minus bid."""
        return self.ask - self.bid


class SymbolHistory:
    """Read access to one symbol's bars; subclasses decide how bars are stored."""

    __slots__ = ("count", "symbol", "top")

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.count = 0  # bars seen so far
        self.top: TopOfBook | None = None

    def column(self, field: Field, count: int, length: int) -> NDArray[np.float64]:
        """Return the last ``length`` values of ``field`` among the first ``count`` bars."""
        raise NotImplementedError

    def value(self, field: Field, count: int) -> float:
        """Return ``field`` of bar number ``count - 1`` (the latest at that count)."""
        raise NotImplementedError


class ReplayHistory(SymbolHistory):
    """History over a fully loaded bar series; the cursor is ``count``."""

    __slots__ = ("_cols", "series")

    def __init__(self, series: BarSeries) -> None:
        super().__init__(series.symbol)
        self.series = series
        # immutable() is a no-op for columns BarSeries built; it covers series rebuilt without
        # __post_init__ (unpickled in a sweep worker, for example).
        self._cols: dict[str, NDArray[np.float64]] = {
            "time": immutable(series.time),
            "open": immutable(series.open),
            "high": immutable(series.high),
            "low": immutable(series.low),
            "close": immutable(series.close),
            "volume": immutable(series.volume),
        }

    def column(self, field: Field, count: int, length: int) -> NDArray[np.float64]:
        """Zero-copy slice of the loaded column (on an immutable buffer)."""
        start = count - length
        return self._cols[field][start if start > 0 else 0 : count]

    def value(self, field: Field, count: int) -> float:
        """Scalar lookup."""
        return float(self._cols[field][count - 1])


class RingHistory(SymbolHistory):
    """Preallocated ring of ``capacity`` bars with contiguous window views."""

    __slots__ = ("_cols", "_views", "capacity")

    def __init__(self, symbol: str, capacity: int = 4096) -> None:
        super().__init__(symbol)
        if capacity < 1:
            raise ValueError("capacity must be positive")
        self.capacity = capacity
        self._cols: dict[str, NDArray[np.float64]] = {}  # written by append()
        self._views: dict[str, NDArray[np.float64]] = {}  # the same memory, read-only for good
        for f in _FIELDS:
            dtype = np.dtype(np.int64 if f == "time" else np.float64)
            memory = bytearray(2 * capacity * dtype.itemsize)
            self._cols[f] = np.frombuffer(memory, dtype=dtype)
            self._views[f] = np.frombuffer(memoryview(memory).toreadonly(), dtype=dtype)

    def append(
        self, time: int, open_: float, high: float, low: float, close: float, volume: float
    ) -> None:
        """Store one bar (two writes per column keep every window contiguous)."""
        i = self.count % self.capacity
        j = i + self.capacity
        cols = self._cols
        for name, v in (
            ("time", time),
            ("open", open_),
            ("high", high),
            ("low", low),
            ("close", close),
            ("volume", volume),
        ):
            col = cols[name]
            col[i] = v
            col[j] = v
        self.count += 1

    def column(self, field: Field, count: int, length: int) -> NDArray[np.float64]:
        """Read-only contiguous view of the last ``length`` bars up to ``count``."""
        cap = self.capacity
        length = min(length, count)
        if count - length < self.count - cap:
            raise SnapshotError(
                f"{self.symbol}: window of {length} bars at bar {count} was overwritten "
                f"(ring holds the last {cap}); copy windows you need to keep"
            )
        end = (count - 1) % cap + cap + 1
        return self._views[field][end - length : end]

    def value(self, field: Field, count: int) -> float:
        """Scalar lookup."""
        if count <= self.count - self.capacity:
            raise SnapshotError(f"{self.symbol}: bar {count - 1} was overwritten")
        return float(self._cols[field][(count - 1) % self.capacity])
