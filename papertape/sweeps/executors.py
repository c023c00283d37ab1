"""Where cells run: in this process, a local process pool, or a Ray cluster.

Every executor yields finished :class:`~sweeps.store.CellResult` objects in whatever order
they finish; the runner keys them by task and tables them in expansion order, so the worker
count and the backend never change a result.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

from papertape.engine.errors import ConfigError
from papertape.sweeps.cells import Cell
from papertape.sweeps.shared import COLUMNS, map_series, series_of
from papertape.sweeps.store import CellResult
from papertape.sweeps.worker import run_cell, run_cell_shared

__all__ = ["run_inline", "run_on_pool", "run_on_ray"]


def run_inline(cells: Sequence[Cell], data_folder: Path) -> Iterator[CellResult]:
    """Run the cells one after another in this process."""
    series = map_series(data_folder)
    for cell in cells:
        yield run_cell(cell, series)


def run_on_pool(cells: Sequence[Cell], data_folder: Path, workers: int) -> Iterator[CellResult]:
    """Run the cells on ``workers`` local processes sharing the memory-mapped data.

    Processes are spawned (not forked): a fork would copy this process's threads and locks,
    and spawned workers behave the same on every platform.
    """
    if workers < 1:
        raise ConfigError("--workers", workers, "must be >= 1")
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    try:
        pending: set[Future[CellResult]] = {
            pool.submit(run_cell_shared, cell, str(data_folder)) for cell in cells
        }
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def run_on_ray(cells: Sequence[Cell], data_folder: Path, address: str) -> Iterator[CellResult]:
    """Run the cells as Ray tasks; the data goes into the object store once.

    ``address = "auto"`` calls ``ray.init()`` (a local Ray, or the cluster named by
    ``RAY_ADDRESS``); anything else is a cluster address such as ``ray://head:10001``.
    """
    try:
        import ray
    except ImportError:
        raise ConfigError(
            "--ray", address, "Ray is not installed: pip install 'papertape[distributed]'"
        ) from None
    started = not ray.is_initialized()
    if started:
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
        if address != "auto":
            kwargs["address"] = address
        ray.init(**kwargs)
    try:
        series = map_series(data_folder)
        columns = [
            {"symbol": s.symbol, "source": s.source, **{c: getattr(s, c) for c in COLUMNS}}
            for s in series
        ]
        data_ref = ray.put(columns)
        task = ray.remote(_ray_cell)
        pending = [task.remote(cell, data_ref) for cell in cells]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                yield ray.get(ref)
    finally:
        if started:
            ray.shutdown()


def _ray_cell(cell: Cell, columns: list[dict[str, Any]]) -> CellResult:
    series = [series_of(c["symbol"], c["source"], c) for c in columns]
    return run_cell(cell, series)
