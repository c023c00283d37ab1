"""What every historical feed produces: validated, columnar bar series and a merged event order.

A feed loads a file once into contiguous, read-only numpy columns (one :class:`BarSeries` per
symbol). Rows that fail validation never enter a series; each rejection is counted by reason
in a :class:`RejectionReport` and logged. :func:`merge_series` interleaves several series into
one time-ordered event stream without copying any price data.
"""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "BarSeries",
    "EventOrder",
    "RejectReason",
    "RejectionReport",
    "immutable",
    "merge_series",
]

NS_PER_SECOND = 1_000_000_000


class RejectReason(enum.StrEnum):
    """Why a row of market data was refused."""

    UNPARSEABLE = "unparseable"
    MISSING_VALUE = "missing_value"  # NaN / empty field
    NON_POSITIVE_PRICE = "non_positive_price"
    HIGH_BELOW_LOW = "high_below_low"
    OUTSIDE_RANGE = "open_or_close_outside_high_low"
    NEGATIVE_VOLUME = "negative_volume"
    DUPLICATE_TIMESTAMP = "duplicate_timestamp"
    OUT_OF_ORDER = "out_of_order_timestamp"


@dataclass(slots=True)
class RejectionReport:
    """Counts of rejected rows by reason, with the first few examples kept for messages."""

    source: str
    counts: Counter[RejectReason] = field(default_factory=Counter)
    examples: list[tuple[int, RejectReason, str]] = field(default_factory=list)
    max_examples: int = 20

    def add(self, line: int, reason: RejectReason, detail: str = "") -> None:
        """Record one rejected row (``line`` is 1-based in the source file, header = line 1)."""
        self.counts[reason] += 1
        if len(self.examples) < self.max_examples:
            self.examples.append((line, reason, detail))

    @property
    def total(self) -> int:
        """Number of rejected rows."""
        return sum(self.counts.values())

    def as_dict(self) -> dict[str, int]:
        """Counts keyed by reason value, sorted for stable output."""
        return {r.value: n for r, n in sorted(self.counts.items(), key=lambda kv: kv[0].value)}


def immutable(column: NDArray[Any]) -> NDArray[Any]:
    """The column on an immutable ``bytes`` buffer: no view of it can ever be made writeable.

    ``flags.writeable = False`` alone is a convention: anyone holding the array may set it back
    to True. On a ``bytes`` buffer numpy refuses (``ValueError``), for the array and every view
    of it. Columns already built that way are returned as they are (no copy).
    """
    base: Any = column
    while isinstance(base, np.ndarray):
        base = base.base
    if isinstance(base, bytes):
        return column
    data = np.ascontiguousarray(column)
    return np.frombuffer(data.tobytes(), dtype=data.dtype).reshape(data.shape)


@dataclass(frozen=True, slots=True, eq=False)
class BarSeries:
    """Validated OHLCV bars of one symbol as read-only, contiguous numpy columns.

    The columns live on immutable buffers (:func:`immutable`): a strategy handed a window
    cannot make it writeable and rewrite prices.

    ``time`` is the bar's open time in nanoseconds since the Unix epoch (UTC). A trades file
    loaded without resampling gives one "bar" per trade with open = high = low = close = price.
    """

    symbol: str
    time: NDArray[np.int64]
    open: NDArray[np.float64]
    high: NDArray[np.float64]
    low: NDArray[np.float64]
    close: NDArray[np.float64]
    volume: NDArray[np.float64]
    source: str = ""
    rejections: RejectionReport | None = None

    def __post_init__(self) -> None:
        n = len(self.time)
        for name in ("open", "high", "low", "close", "volume"):
            col = getattr(self, name)
            if len(col) != n:
                raise ValueError(f"column {name} has {len(col)} rows, time has {n}")
        for name in ("time", "open", "high", "low", "close", "volume"):
            object.__setattr__(self, name, immutable(getattr(self, name)))

    def __len__(self) -> int:
        return len(self.time)

    @property
    def interval_ns(self) -> int:
        """Typical spacing of bars (median difference), 0 for fewer than two bars."""
        if len(self.time) < 2:
            return 0
        return int(np.median(np.diff(self.time)))

    @classmethod
    def from_arrays(
        cls,
        symbol: str,
        time: NDArray[np.int64],
        open_: NDArray[np.float64],
        high: NDArray[np.float64],
        low: NDArray[np.float64],
        close: NDArray[np.float64],
        volume: NDArray[np.float64],
        source: str = "",
    ) -> BarSeries:
        """Build a series from trusted arrays (copied into contiguous storage)."""
        return cls(
            symbol,
            np.ascontiguousarray(time, dtype=np.int64),
            np.ascontiguousarray(open_, dtype=np.float64),
            np.ascontiguousarray(high, dtype=np.float64),
            np.ascontiguousarray(low, dtype=np.float64),
            np.ascontiguousarray(close, dtype=np.float64),
            np.ascontiguousarray(volume, dtype=np.float64),
            source,
            RejectionReport(source),
        )


@dataclass(frozen=True, slots=True, eq=False)
class EventOrder:
    """The replay order of bars across symbols.

    Event ``k`` is bar ``row[k]`` of series ``symbol[k]`` at ``time[k]``. Events are sorted by
    time, ties broken by the order the series were given (stable). ``last_in_step[k]`` is true
    when event ``k`` is the last one of its timestamp (the engine records equity there).
    """

    symbol: NDArray[np.int32]
    row: NDArray[np.int64]
    time: NDArray[np.int64]
    last_in_step: NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.time)


def merge_series(series: list[BarSeries]) -> EventOrder:
    """Interleave several bar series into one time-ordered event stream."""
    if not series:
        empty_i = np.zeros(0, dtype=np.int64)
        return EventOrder(np.zeros(0, dtype=np.int32), empty_i, empty_i, np.zeros(0, dtype=bool))
    times = np.concatenate([s.time for s in series])
    syms = np.concatenate([np.full(len(s), i, dtype=np.int32) for i, s in enumerate(series)])
    rows = np.concatenate([np.arange(len(s), dtype=np.int64) for s in series])
    order = np.argsort(times, kind="stable")
    t = times[order]
    last = np.ones(len(t), dtype=bool)
    if len(t) > 1:
        last[:-1] = t[1:] != t[:-1]
    return EventOrder(syms[order], rows[order], t, last)
