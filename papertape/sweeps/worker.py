"""Running one cell inside a worker (this process, a pool process or a Ray task)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from papertape.engine.feeds.base import BarSeries
from papertape.engine.session import run_session
from papertape.sweeps.cells import Cell
from papertape.sweeps.store import CellResult

__all__ = ["LLM_USAGE", "METRICS", "TAPE", "run_cell", "run_cell_task"]

METRICS = ("sharpe", "total_return", "cagr", "max_drawdown", "trades", "win_rate", "final_equity")
LLM_USAGE = ("decisions", "llm_calls", "cache_hits")
TAPE = "data"  # the name of a sweep's one tape


def run_cell(cell: Cell, series: Sequence[BarSeries]) -> CellResult:
    """Run a cell's session on ``series`` and reduce it to metrics and per-bar returns."""
    result = run_session(cell.config, series=series, journal=False)
    (strategy,) = result.strategies.values()
    report = strategy.metrics
    metrics = {key: float(getattr(report, key)) for key in METRICS}
    equity = np.asarray(strategy.equity, dtype=np.float64)
    returns = np.diff(equity) / equity[:-1] if len(equity) > 1 else np.zeros(0)
    usage = {key: int(strategy.stats[key]) for key in LLM_USAGE if key in strategy.stats}
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
        usage,
    )


def run_cell_task(cell: Cell, tapes: Mapping[str, Sequence[BarSeries]]) -> CellResult:
    """:func:`run_cell` as an executor task (see :mod:`papertape.sweeps.executors`)."""
    return run_cell(cell, tapes[TAPE])
