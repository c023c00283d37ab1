from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from papertape.engine.errors import SnapshotError
from papertape.engine.market import ReplayHistory, RingHistory
from papertape.engine.snapshot import Snapshot
from papertape.engine.strategy import Strategy
from tests.conftest import flat_bars, make_engine


def _snap(history: Any, count: int) -> Snapshot:
    return Snapshot(0, history.symbol, 1.0, (count,), (history.symbol,), (history,), 0)


def test_fields_cannot_be_rebound() -> None:
    snap = _snap(ReplayHistory(flat_bars([1.0, 2.0, 3.0])), 3)
    with pytest.raises(AttributeError):
        snap.price = 99.0  # type: ignore[misc]
    with pytest.raises(AttributeError):
        snap.extra = 1  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        del snap.symbol  # type: ignore[misc]
    assert not hasattr(snap, "__dict__")


def test_windows_are_read_only_views_without_copy() -> None:
    series = flat_bars([1.0, 2.0, 3.0, 4.0])
    snap = _snap(ReplayHistory(series), 3)
    w = snap.closes(2)
    assert w.tolist() == [2.0, 3.0]
    assert np.shares_memory(w, series.close)  # a view, not a copy
    with pytest.raises(ValueError, match="read-only"):
        w[0] = 0.0
    assert series.close[1] == 2.0


def test_annotations_are_read_only() -> None:
    snap = _snap(ReplayHistory(flat_bars([1.0])), 1).with_annotations({"regime": "calm"})
    assert snap.annotations["regime"] == "calm"
    with pytest.raises(TypeError):
        snap.annotations["regime"] = "volatile"  # type: ignore[index]


def test_old_snapshot_never_sees_later_bars() -> None:
    """A strategy that keeps snapshots sees exactly the past of each one."""
    kept: list[Snapshot] = []

    class Keeper(Strategy):
        name = "keeper"

        def on_bar(self, snap: Snapshot, portfolio: Any) -> None:
            kept.append(snap)

    closes = [10.0, 11.0, 12.0, 13.0, 14.0]
    engine, _ = make_engine(flat_bars(closes), Keeper())
    engine.run_sync()
    for i, snap in enumerate(kept):
        assert snap.closes(100).tolist() == closes[: i + 1]
        assert snap.last("close") == closes[i]
        assert int(snap.window("time", 1)[-1]) == snap.time


def test_strategy_cannot_write_into_history() -> None:
    class Vandal(Strategy):
        name = "vandal"
        errors: list[Exception] = []

        def on_bar(self, snap: Snapshot, portfolio: Any) -> None:
            try:
                snap.closes(1)[0] = -1.0
            except ValueError as exc:
                self.errors.append(exc)

    series = flat_bars([5.0, 6.0, 7.0])
    engine, _ = make_engine(series, Vandal())
    engine.run_sync()
    assert len(Vandal.errors) == 3
    assert series.close.tolist() == [5.0, 6.0, 7.0]


def test_ring_windows_are_contiguous_and_refuse_overwritten_data() -> None:
    ring = RingHistory("R", capacity=4)
    for i in range(10):
        ring.append(i, i, i, i, float(i), 1.0)
    view = ring.column("close", 10, 4)
    assert view.tolist() == [6.0, 7.0, 8.0, 9.0]
    assert view.flags.c_contiguous and not view.flags.writeable
    assert ring.column("close", 9, 3).tolist() == [6.0, 7.0, 8.0]
    with pytest.raises(SnapshotError, match="overwritten"):
        ring.column("close", 5, 2)
    assert ring.value("close", 10) == 9.0
