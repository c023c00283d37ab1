"""The immutable market snapshot every plugin sees.

A :class:`Snapshot` is created once per market event (a bar of one symbol) and shared by all
plugins of that tick. It is immutable and slotted (``__slots__ = ()``), so plugins cannot rebind
or add fields, and every array it hands out is a numpy view on memory that cannot be written
(immutable ``bytes`` in replay, a read-only ``memoryview`` of the live ring): setting
``flags.writeable = True`` raises, so plugins cannot write into the history either. Windows
are addressed by the bar counts captured at creation: a snapshot kept for later still shows
exactly the past it was built on.

It is a ``NamedTuple`` rather than a frozen dataclass on purpose: one is built per bar, and
measured here a frozen slotted dataclass took ~1 µs to construct (``object.__setattr__`` per
field) against ~0.2 µs for the tuple, with C-level field reads. That difference alone was a
quarter of the per-bar budget of the replay loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from papertape.engine.market import Field, SymbolHistory, TopOfBook

__all__ = ["EMPTY_ANNOTATIONS", "Snapshot"]

EMPTY_ANNOTATIONS: Mapping[str, Any] = MappingProxyType({})


class Snapshot(NamedTuple):
    """The market as of one event.

    Attributes:
        time: Event time, nanoseconds since the Unix epoch (UTC); for a bar, its open time.
            A decision on this snapshot is taken at the bar's close; its fills come later.
        symbol: The symbol whose bar (or tick) produced this snapshot.
        price: Last price (the bar's close) of ``symbol``.
        counts: Bars seen per symbol (in ``symbols`` order) when the snapshot was taken.
        symbols: Names of all symbols of the run.
        symbol_index: Position of ``symbol`` in ``symbols``.
        histories: The per-symbol stores the windows are read from (read-only access only).
        stale: True when a live feed has not delivered within its staleness limit.
        annotations: Fields added by annotator plugins (e.g. ``regime``), read-only.
    """

    time: int
    symbol: str
    price: float
    counts: tuple[int, ...]
    symbols: tuple[str, ...]
    histories: tuple[SymbolHistory, ...]
    symbol_index: int = 0  # position of ``symbol`` in ``symbols``
    stale: bool = False
    annotations: Mapping[str, Any] = EMPTY_ANNOTATIONS

    def _slot(self, symbol: str | None) -> int:
        if symbol is None or symbol == self.symbol:
            return self.symbol_index
        try:
            return self.symbols.index(symbol)
        except ValueError:
            raise KeyError(
                f"unknown symbol {symbol!r}; this run has {list(self.symbols)}"
            ) from None

    def window(self, field: Field, length: int, symbol: str | None = None) -> NDArray[np.float64]:
        """Return the last ``length`` values of ``field`` (read-only view, oldest first).

        Fewer values are returned while history is shorter than ``length``.
        """
        k = self._slot(symbol)
        return self.histories[k].column(field, self.counts[k], length)

    def closes(self, length: int, symbol: str | None = None) -> NDArray[np.float64]:
        """Shorthand for ``window("close", length, symbol)``."""
        k = self._slot(symbol)
        return self.histories[k].column("close", self.counts[k], length)

    def last(self, field: Field = "close", symbol: str | None = None) -> float:
        """Latest value of ``field`` for ``symbol`` (NaN if it has no bar yet)."""
        k = self._slot(symbol)
        n = self.counts[k]
        return self.histories[k].value(field, n) if n else float("nan")

    def bars(self, symbol: str | None = None) -> int:
        """Number of bars of ``symbol`` seen so far."""
        return self.counts[self._slot(symbol)]

    def top_of_book(self, symbol: str | None = None) -> TopOfBook | None:
        """Best bid/ask when the feed provides a book (live mode)."""
        return self.histories[self._slot(symbol)].top

    def with_annotations(self, extra: Mapping[str, Any]) -> Snapshot:
        """Return a new snapshot with ``extra`` merged into the annotations."""
        merged = dict(self.annotations)
        merged.update(extra)
        return self._replace(annotations=MappingProxyType(merged))
