"""Running one cell inside a worker (a pool process or a Ray task)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from papertape.engine.feeds.base import BarSeries
from papertape.engine.session import run_session
from papertape.sweeps.cells import Cell
from papertape.sweeps.shared import map_series
from papertape.sweeps.store import CellResult

__all__ = ["METRICS", "run_cell", "run_cell_shared"]

METRICS = ("sharpe", "total_return", "cagr", "max_drawdown", "trades", "win_rate", "final_equity")

_MAPPED: dict[str, list[BarSeries]] = {}


def run_cell(cell: Cell, series: Sequence[BarSeries]) -> CellResult:
    """Run a cell's session on ``series`` and reduce it to metrics and per-bar returns."""
    result = run_session(cell.config, series=series, journal=False)
    (strategy,) = result.strategies.values()
    report = strategy.metrics
    metrics = {key: float(getattr(report, key)) for key in METRICS}
    equity = np.asarray(strategy.equity, dtype=np.float64)
    returns = np.diff(equity) / equity[:-1] if len(equity) > 1 else np.zeros(0)
    return CellResult(
        cell.index,
        cell.task_id,
        cell.run_id,
        cell.params,
        cell.seed,
        metrics,
        returns,
        cell.window,
        cell.symbol,
    )


def run_cell_shared(cell: Cell, data_folder: str) -> CellResult:
    """:func:`run_cell` on the sweep's memory-mapped data, mapped once per process."""
    if data_folder not in _MAPPED:
        _MAPPED[data_folder] = map_series(Path(data_folder))
    return run_cell(cell, _MAPPED[data_folder])
