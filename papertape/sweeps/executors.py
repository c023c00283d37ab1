"""Where tasks run: in this process, a local process pool, or a Ray cluster.

A task is any picklable value (a sweep's :class:`~papertape.sweeps.cells.Cell`, an arena's
window); ``work(task, tapes)`` runs it on the shared market data and returns its result.
Every executor yields ``(task, result)`` pairs in whatever order the tasks finish; callers key
the results by task id and put them in their own order, so the worker count and the backend
never change what they report.

The data are *tapes*: named lists of series, written once by the parent as ``.npy`` columns
(:func:`~papertape.sweeps.shared.share_series`). Pool workers map them read-only, once per
process; on Ray they go into the object store once.

Every worker also gets the parent's LLM cache folder (``$PAPERTAPE_LLM_CACHE`` or
``journals/llm-cache`` resolved against the parent's working directory), so LLM traders in
every task read and write one content-addressed cache wherever the worker was started.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any, TypeVar

from papertape.engine.errors import ConfigError
from papertape.engine.feeds.base import BarSeries
from papertape.plugins.llm.trader import CACHE_ENV
from papertape.sweeps.shared import COLUMNS, map_series, series_of

__all__ = ["Tapes", "llm_cache_dir", "run_inline", "run_on_pool", "run_on_ray", "run_tasks"]

T = TypeVar("T")
R = TypeVar("R")

Tapes = Mapping[str, Sequence[BarSeries]]
"""Named market data a task runs on (a sweep has one tape, a blind arena two)."""

_MAPPED: dict[str, list[BarSeries]] = {}


def llm_cache_dir() -> str:
    """The LLM cache folder of this process, absolute (where an LLM trader's ``""`` points)."""
    return str(Path(os.environ.get(CACHE_ENV) or Path("journals") / "llm-cache").resolve())


def run_tasks(
    work: Callable[[T, Tapes], R],
    tasks: Sequence[T],
    tapes: Mapping[str, Path],
    *,
    workers: int = 1,
    ray: str | None = None,
) -> Iterator[tuple[T, R]]:
    """Run ``work`` on every task: on Ray when ``ray`` is set, else on ``workers`` processes.

    Args:
        work: A module-level function (workers import it by name).
        tasks: The tasks, each picklable.
        tapes: Folders written by :func:`~papertape.sweeps.shared.share_series`, by name.
        workers: Local processes; 1 runs the tasks one after another in this process.
        ray: ``"auto"`` or a Ray cluster address; replaces the local pool.
    """
    if not tasks:
        return iter(())
    if ray is not None:
        return run_on_ray(work, tasks, tapes, ray)
    if workers <= 1:
        return run_inline(work, tasks, tapes)
    return run_on_pool(work, tasks, tapes, workers)


def run_inline(
    work: Callable[[T, Tapes], R], tasks: Sequence[T], tapes: Mapping[str, Path]
) -> Iterator[tuple[T, R]]:
    """Run the tasks one after another in this process."""
    mapped = {name: map_series(folder) for name, folder in tapes.items()}
    for task in tasks:
        yield task, work(task, mapped)


def run_on_pool(
    work: Callable[[T, Tapes], R],
    tasks: Sequence[T],
    tapes: Mapping[str, Path],
    workers: int,
) -> Iterator[tuple[T, R]]:
    """Run the tasks on ``workers`` local processes sharing the memory-mapped tapes.

    Processes are spawned (not forked): a fork would copy this process's threads and locks,
    and spawned workers behave the same on every platform.
    """
    if workers < 1:
        raise ConfigError("--workers", workers, "must be >= 1")
    folders = {name: str(folder) for name, folder in tapes.items()}
    cache = llm_cache_dir()
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    try:
        pending: dict[Future[R], T] = {
            pool.submit(_run_mapped, work, task, folders, cache): task for task in tasks
        }
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield pending.pop(future), future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def run_on_ray(
    work: Callable[[T, Tapes], R],
    tasks: Sequence[T],
    tapes: Mapping[str, Path],
    address: str,
) -> Iterator[tuple[T, R]]:
    """Run the tasks as Ray tasks; each tape goes into the object store once.

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
        names = list(tapes)
        refs = [ray.put(_columns(map_series(tapes[name]))) for name in names]
        cache = llm_cache_dir()
        remote = ray.remote(_run_columns)
        pending = {remote.remote(work, task, names, cache, *refs): task for task in tasks}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                yield pending.pop(ref), ray.get(ref)
    finally:
        if started:
            ray.shutdown()


def _columns(series: Sequence[BarSeries]) -> list[dict[str, Any]]:
    return [
        {"symbol": s.symbol, "source": s.source, **{c: getattr(s, c) for c in COLUMNS}}
        for s in series
    ]


def _use_cache(cache: str) -> None:
    # The LLM trader reads the variable when it starts, i.e. inside the task.
    os.environ[CACHE_ENV] = cache


def _run_mapped(
    work: Callable[[T, Tapes], R], task: T, folders: Mapping[str, str], cache: str
) -> R:
    """One task in a pool process: tapes mapped once per process."""
    _use_cache(cache)
    for folder in folders.values():
        if folder not in _MAPPED:
            _MAPPED[folder] = map_series(Path(folder))
    return work(task, {name: _MAPPED[folder] for name, folder in folders.items()})


def _run_columns(
    work: Callable[[T, Tapes], R],
    task: T,
    names: Sequence[str],
    cache: str,
    *tapes: list[dict[str, Any]],
) -> R:
    """One Ray task: the tapes arrive from the object store as read-only columns."""
    _use_cache(cache)
    mapped = {
        name: [series_of(c["symbol"], c["source"], c) for c in columns]
        for name, columns in zip(names, tapes, strict=True)
    }
    return work(task, mapped)
