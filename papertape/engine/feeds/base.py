"""What every historical feed produces: validated, columnar bar series and a merged event order.

A feed loads a file once into contiguous, read-only numpy columns (one :class:`BarSeries` per
symbol). Rows that fail validation never enter a series; each rejection is counted by reason
in a :class:`RejectionReport` and logged. :func:`merge_series` interleaves several series into
one event stream ordered by when each bar closes, without copying any price data.
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
    "close_times",
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
    """What loading a file did: rejected rows by reason, rows read, any reordering.

    The first few rejected rows are kept as examples for messages.

    Attributes:
        source: The file.
        counts: Rejected rows by reason.
        examples: ``(line, reason, detail)`` of the earliest rejected rows.
        max_examples: How many examples are kept.
        rows: Data rows read from the file (accepted + rejected).
        sorted_descending: The file was entirely in descending time order and was reversed.
    """

    source: str
    counts: Counter[RejectReason] = field(default_factory=Counter)
    examples: list[tuple[int, RejectReason, str]] = field(default_factory=list)
    max_examples: int = 20
    rows: int = 0
    sorted_descending: bool = False

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

    def first_reasons(self, limit: int = 3) -> str:
        """The first ``limit`` examples as ``line N: reason (detail)``, joined by ``; ``."""
        return "; ".join(
            f"line {line}: {reason}" + (f" ({detail})" if detail else "")
            for line, reason, detail in self.examples[:limit]
        )

    def to_json(self) -> dict[str, object]:
        """Plain data for storage (the load cache)."""
        return {
            "source": self.source,
            "counts": self.as_dict(),
            "examples": [[line, reason.value, detail] for line, reason, detail in self.examples],
            "max_examples": self.max_examples,
            "rows": self.rows,
            "sorted_descending": self.sorted_descending,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RejectionReport:
        """Rebuild a report written by :meth:`to_json`.

        Raises:
            KeyError, TypeError, ValueError: ``data`` is not such a report.
        """
        counts: Counter[RejectReason] = Counter(
            {RejectReason(k): int(v) for k, v in dict(data["counts"]).items()}
        )
        examples = [(int(a), RejectReason(b), str(c)) for a, b, c in data["examples"]]
        return cls(
            str(data["source"]),
            counts,
            examples,
            int(data["max_examples"]),
            int(data["rows"]),
            bool(data["sorted_descending"]),
        )


def immutable(column: NDArray[Any]) -> NDArray[Any]:
    """The column on an immutable ``bytes`` buffer: no view of it can ever be made writeable.

    ``flags.writeable = False`` alone is a convention: anyone holding the array may set it back
    to True. On a ``bytes`` buffer numpy refuses (``ValueError``), for the array and every view
    of it. Columns already built that way are returned as they are (no copy).
    """
    base: Any = column
    while isinstance(base, np.ndarray) and not isinstance(base, np.memmap):
        base = base.base
    if isinstance(base, bytes):
        return column
    if isinstance(base, np.memmap) and base.mode == "r":
        return column  # a read-only mapping (the load cache): numpy refuses writeable=True too
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
    """The replay order of bars across symbols, on the bar-close clock.

    Event ``k`` is bar ``row[k]`` of series ``symbol[k]``, stamped ``time[k]`` (its open time)
    and visible from ``clock[k]`` (its close time, see :func:`close_times`). Events are sorted
    by close time, then open time, ties broken by the order the series were given (stable).
    ``last_in_step[k]`` is true when event ``k`` is the last one closing at ``clock[k]``: the
    engine marks equity and takes the moment's decisions there.
    """

    symbol: NDArray[np.int32]
    row: NDArray[np.int64]
    time: NDArray[np.int64]
    last_in_step: NDArray[np.bool_]
    clock: NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.time)


def close_times(series: BarSeries) -> NDArray[np.int64]:
    """When each bar of ``series`` closes, i.e. becomes visible.

    A bar closes at its open time plus the series' interval, or at the next bar's open when
    that comes sooner (an irregular series); the last bar closes one interval after its
    open. A series of one bar has no interval and closes at its open.
    """
    t = series.time
    close = t + np.int64(series.interval_ns)
    if len(t) > 1:
        np.minimum(close[:-1], t[1:], out=close[:-1])
    return close


def merge_series(series: list[BarSeries]) -> EventOrder:
    """Interleave several bar series into one event stream ordered by the bar-close clock."""
    if not series:
        empty_i = np.zeros(0, dtype=np.int64)
        return EventOrder(
            np.zeros(0, dtype=np.int32), empty_i, empty_i, np.zeros(0, dtype=bool), empty_i
        )
    times = np.concatenate([s.time for s in series])
    closes = np.concatenate([close_times(s) for s in series])
    syms = np.concatenate([np.full(len(s), i, dtype=np.int32) for i, s in enumerate(series)])
    rows = np.concatenate([np.arange(len(s), dtype=np.int64) for s in series])
    # lexsort is stable: bars closing and opening together keep the order the series came in
    order = np.arange(len(times)) if len(series) == 1 else np.lexsort((times, closes))
    c = closes[order]
    last = np.ones(len(c), dtype=bool)
    if len(c) > 1:
        last[:-1] = c[1:] != c[:-1]
    return EventOrder(syms[order], rows[order], times[order], last, c)
