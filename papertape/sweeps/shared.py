"""Market data loaded once per sweep and shared with every worker.

The parent writes each column as a ``.npy`` file in the sweep's folder; workers map them
read-only (``np.load(mmap_mode="r")``), so the operating system shares the pages between
processes instead of every task re-reading and re-parsing the data file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from papertape.engine.feeds.base import BarSeries

__all__ = ["COLUMNS", "map_series", "series_of", "share_series"]

COLUMNS = ("time", "open", "high", "low", "close", "volume")


def share_series(series: Sequence[BarSeries], folder: Path) -> Path:
    """Write the series as ``.npy`` columns under ``folder/data``; return that folder."""
    out = folder / "data"
    out.mkdir(parents=True, exist_ok=True)
    meta = []
    for i, s in enumerate(series):
        for col in COLUMNS:
            target = out / f"{i}-{col}.npy"
            tmp = target.with_suffix(".tmp.npy")
            np.save(tmp, np.ascontiguousarray(getattr(s, col)))
            tmp.replace(target)
        meta.append({"symbol": s.symbol, "source": s.source})
    (out / "series.json").write_text(json.dumps(meta), encoding="utf-8")
    return out


def map_series(folder: Path) -> list[BarSeries]:
    """The series shared by :func:`share_series`, mapped read-only (no copy)."""
    meta = json.loads((folder / "series.json").read_text(encoding="utf-8"))
    out = []
    for i, m in enumerate(meta):
        cols = {col: np.load(folder / f"{i}-{col}.npy", mmap_mode="r") for col in COLUMNS}
        out.append(series_of(m["symbol"], m["source"], cols))
    return out


def series_of(symbol: str, source: str, cols: Mapping[str, NDArray[Any]]) -> BarSeries:
    """A :class:`BarSeries` from named columns (read-only arrays are kept, not copied)."""
    return BarSeries(
        symbol,
        cols["time"],
        cols["open"],
        cols["high"],
        cols["low"],
        cols["close"],
        cols["volume"],
        source,
    )
