"""Run an arena: every window (and, in blind mode, every variant) as one engine session.

One window is one session on the shared session API, cut by the core's window on both tapes:
``[run] start``/``end``/``warmup_bars`` (see docs/pipeline.md). The engine feeds every
strategy the ``warmup_bars`` bars before the window and drops their decisions
(``ctx.trade_from`` is the window's first bar), so incremental indicators are warm and every
trader starts the window flat with its cash. On the real tape the journal's ``config.json``
records that window, so ``papertape journal replay`` rebuilds the same bars; the blind tape
exists only in memory, so it is handed to :func:`~papertape.engine.session.build_engine` as
``series`` and the window's config names the blind (shifted) dates. Each window's config gets
its own run name (``<name>-w<i>``, ``-blind``), so windows never share a journal. All traders
of a window run on one stream with identical costs, in isolated portfolios; LLM calls of one
decision round run concurrently (the engine awaits them together).

Windows are independent sessions, so they can run in parallel: with ``workers > 1`` or ``ray``
each window is a task on the sweep executor (:mod:`papertape.sweeps.executors`), the real and
the blind tape are written once as shared columns (memory-mapped by pool workers, put in Ray's
object store once), and the runs are collected by task id and put back in plan order, so the
leaderboard, ``arena.json`` and every window's journal are the same bytes at any worker count.
LLM traders in every worker share the parent's content-addressed cache folder.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import NDArray

from papertape.arena.baselines import add_baselines
from papertape.arena.blind import blind_config, blind_series
from papertape.arena.tape import EventTap, TraderRun, positions_by_step, window_metrics
from papertape.arena.windows import Window, plan_windows
from papertape.engine.errors import ConfigError
from papertape.engine.session import build_engine, load_series

if TYPE_CHECKING:
    from papertape.arena.config import ArenaConfig
    from papertape.engine.config import RunConfig
    from papertape.engine.feeds.base import BarSeries
    from papertape.engine.loop import Engine


class ArenaObserver(Protocol):
    """Watches an arena as it runs (``papertape arena --tui``); never changes its results."""

    def window_started(
        self, window: Window, blind: bool, engine: Engine, run_dir: Path | None
    ) -> None:
        """A window's engine is built (``run_dir``: its journal folder) and about to run."""

    def window_finished(self, so_far: ArenaRun) -> None:
        """A window ended; ``so_far`` holds every window done (its leaderboard is current)."""


__all__ = [
    "ArenaObserver",
    "ArenaRun",
    "WindowRun",
    "WindowTask",
    "arena_id",
    "run_arena",
    "run_window",
    "run_window_task",
]

log = logging.getLogger("papertape.arena")


@dataclass(frozen=True, slots=True)
class WindowRun:
    """The outcome of one window in one variant (blind or not)."""

    window: Window
    blind: bool
    run_id: str
    journal: str | None
    times: NDArray[np.int64]  # the window's steps
    series: dict[str, BarSeries]  # the bars the traders saw (warm-up included), by symbol
    traders: dict[str, TraderRun]
    regimes: tuple[dict[str, Any], ...]
    seconds: float


@dataclass(frozen=True, slots=True)
class ArenaRun:
    """Everything an arena produced."""

    arena_id: str
    config: ArenaConfig
    contestants: tuple[str, ...]
    baselines: tuple[str, ...]
    windows: tuple[WindowRun, ...]
    seconds: float
    skipped: tuple[tuple[str, str], ...] = ()  # (slot id, why) of traders that could not run

    def variant(self, blind: bool) -> list[WindowRun]:
        """The windows of one variant, in order."""
        return [w for w in self.windows if w.blind is blind]


def arena_id(config: ArenaConfig) -> str:
    """``<run name>-arena-<hash of the run config and the arena settings>``."""
    blob = json.dumps(
        {"run": config.run.config_hash, "arena": config.arena.model_dump(mode="json")},
        sort_keys=True,
    )
    return f"{config.run.run.name}-arena-{hashlib.sha256(blob.encode()).hexdigest()[:12]}"


def _window_config(config: RunConfig, window: Window, warmup_bars: int, blind: bool) -> RunConfig:
    """The window's run config: its own run name, and the window as the core's ``[run]`` keys.

    ``end`` is exclusive in ``[run]``, the arena's window inclusive: one ns past its end.
    """
    name = f"{config.run.name}-w{window.index}" + ("-blind" if blind else "")
    run = config.run.model_copy(
        update={
            "name": name,
            "start": str(np.datetime64(window.start, "ns")),
            "end": str(np.datetime64(window.end + 1, "ns")),
            "warmup_bars": warmup_bars,
        }
    )
    return config.model_copy(update={"run": run})


def run_window(
    config: RunConfig,
    series: Sequence[BarSeries],
    window: Window,
    warmup_bars: int,
    blind: bool,
    observer: ArenaObserver | None = None,
) -> WindowRun:
    """Run every strategy of ``config`` over one window (see the module docstring).

    ``series`` (the whole tape: the core cuts the window and its warm-up) and ``config`` are
    already blinded for a blind variant (``blind`` names it).
    """
    start = window.start
    wconfig = _window_config(config, window, warmup_bars, blind)
    engine_series = list(series)
    tap = EventTap()
    engine, writer = build_engine(wconfig, engine_series, extra_plugins=[tap])
    if observer is not None:
        observer.window_started(
            window, blind, engine, Path(writer.run_dir) if writer is not None else None
        )
    t0 = time.perf_counter()
    try:
        engine.run_sync()
    finally:
        if writer is not None:
            writer.close()
    seconds = time.perf_counter() - t0
    steps = np.frombuffer(engine.step_times, dtype=np.int64).copy()
    k0 = int(np.searchsorted(steps, start, side="left"))
    times = steps[k0:]
    by_symbol = {s.symbol: s for s in engine.series}
    traders: dict[str, TraderRun] = {}
    for slot in engine.slots:
        curve = np.frombuffer(slot.portfolio.curve, dtype=np.float64)[k0:].copy()
        fills = tap.fills.get(slot.id, [])
        side = positions_by_step(fills, times, by_symbol)
        trades = tuple(slot.portfolio.trades)
        stats = slot.strategy.stats()
        traders[slot.id] = TraderRun(
            slot.id,
            slot.strategy.name,
            curve,
            side,
            trades,
            float(sum(f.fee for f in fills)),
            tuple(fills),
            tuple(tap.decisions.get(slot.id, [])),
            dict(stats) if isinstance(stats, dict) else {},
            window_metrics(curve, times, trades, side),
            slot.errors,
            slot.enabled,
        )
    return WindowRun(
        window,
        blind,
        wconfig.run_id,
        str(writer.run_dir) if writer is not None else None,
        times,
        by_symbol,
        traders,
        tuple(tap.regimes),
        seconds,
    )


@dataclass(frozen=True, slots=True)
class WindowTask:
    """One window of one variant, as a task of the sweep executor.

    Attributes:
        task_id: ``w<index>`` or ``w<index>-blind``; runs are collected under it.
        config: The window's run config (baselines added; blinded for the blind variant).
        window: The window on its tape.
        warmup_bars: History shown before the window starts.
        blind: Whether it runs on the blind tape.
    """

    task_id: str
    config: RunConfig
    window: Window
    warmup_bars: int
    blind: bool

    @property
    def tape(self) -> str:
        """The name of the tape it runs on: ``real`` or ``blind``."""
        return "blind" if self.blind else "real"


def run_window_task(task: WindowTask, tapes: Mapping[str, Sequence[BarSeries]]) -> WindowRun:
    """:func:`run_window` as an executor task, on the task's tape."""
    log.info("arena window %s%s", task.window.label, " (blind)" if task.blind else "")
    return run_window(task.config, tapes[task.tape], task.window, task.warmup_bars, task.blind)


def _run_windows(
    tasks: Sequence[WindowTask],
    tapes: Mapping[str, Sequence[BarSeries]],
    workers: int,
    ray: str | None,
) -> list[WindowRun]:
    """Every task's run, in the order of ``tasks``, whatever ran them."""
    if ray is None and workers <= 1:
        return [run_window_task(task, tapes) for task in tasks]
    from papertape.sweeps.executors import run_tasks
    from papertape.sweeps.shared import share_series

    with tempfile.TemporaryDirectory(prefix="papertape-arena-") as tmp:
        shared = {name: share_series(tape, Path(tmp) / name) for name, tape in tapes.items()}
        runs = {
            task.task_id: run
            for task, run in run_tasks(run_window_task, tasks, shared, workers=workers, ray=ray)
        }
    return [runs[task.task_id] for task in tasks]


def _without_unreachable(config: ArenaConfig) -> tuple[ArenaConfig, tuple[tuple[str, str], ...]]:
    """Leave out traders that cannot run here (a key that is not set), saying why.

    Each strategy's class says it (:meth:`~papertape.engine.strategy.Strategy.unreachable`
    with its configured params): the LLM traders check their providers' keys (a fallback chain
    can run while one of its models can), and a user's strategy may check its own. Nothing is
    left out when every trader can run.
    """
    from papertape.engine.registry import build_catalog, make_plugin_manager

    plugins = config.run.plugins
    catalog = build_catalog(*make_plugin_manager(plugins.strategy_dirs, plugins.entry_points))
    keep, skipped = [], []
    for sc in config.run.strategies:
        why = catalog.strategy(sc.name).unreachable(sc.params)
        if why:
            skipped.append((sc.slot_id, why))
            log.warning("arena: skipping trader %s (%s)", sc.slot_id, why)
        else:
            keep.append(sc)
    if not skipped:
        return config, ()
    if not keep:
        raise ConfigError("strategies", [s for s, _ in skipped], "no trader can run here")
    run = config.run.model_copy(update={"strategies": keep})
    return config.model_copy(update={"run": run}), tuple(skipped)


def run_arena(
    config: ArenaConfig,
    series: Sequence[BarSeries] | None = None,
    windows: int | None = None,
    observer: ArenaObserver | None = None,
    *,
    workers: int = 1,
    ray: str | None = None,
) -> ArenaRun:
    """Run the arena: baselines added, every window, every blind variant.

    Args:
        config: The arena config.
        series: Bars to use instead of the config's data files.
        windows: Overrides ``[arena] windows`` with N equal windows (``--windows``).
        observer: Told when each window starts and ends (a monitor), or None. Windows then
            run one after another in this process.
        workers: Local processes running windows side by side (1: one after another here).
        ray: ``"auto"`` or a Ray cluster address: the windows run as Ray tasks.

    Raises:
        ConfigError: ``workers`` below 1, Ray asked for and not installed, or an observer
            with windows run elsewhere.
    """
    if workers < 1:
        raise ConfigError("--workers", workers, "must be >= 1")
    if observer is not None and (workers > 1 or ray is not None):
        raise ConfigError("--tui", "--workers/--ray", "the monitor follows windows run here")
    settings = config.arena
    if windows is not None:
        settings = settings.model_copy(update={"windows": windows})
        config = config.model_copy(update={"arena": settings})
    config, skipped = _without_unreachable(config)
    data = list(series) if series is not None else load_series(config.run)
    planned = plan_windows(data, settings.windows, settings.warmup_bars)
    contestants = tuple(s.slot_id for s in config.run.strategies)
    t0 = time.perf_counter()
    tasks: list[WindowTask] = []
    tapes: dict[str, Sequence[BarSeries]] = {}
    for blind in settings.blind_modes:
        tape, cfg, plan = data, config.run, planned
        if blind:  # one transformation for the whole tape, so windows pool like the real ones
            blinded = blind_series(data)
            tape, cfg = blinded.series, blind_config(config.run, blinded.aliases)
            plan = [
                replace(w, start=w.start + blinded.shift_ns, end=w.end + blinded.shift_ns)
                for w in planned
            ]
        tapes["blind" if blind else "real"] = tape
        for window in plan:
            wcfg = add_baselines(cfg, settings.baselines, config.seed + window.index)
            tid = f"w{window.index}" + ("-blind" if blind else "")
            tasks.append(WindowTask(tid, wcfg, window, settings.warmup_bars, blind))
    if observer is None:
        return _so_far(config, contestants, _run_windows(tasks, tapes, workers, ray), t0, skipped)
    runs: list[WindowRun] = []
    for task in tasks:
        log.info("arena window %s%s", task.window.label, " (blind)" if task.blind else "")
        wtape = tapes[task.tape]
        runs.append(
            run_window(task.config, wtape, task.window, task.warmup_bars, task.blind, observer)
        )
        observer.window_finished(_so_far(config, contestants, runs, t0, skipped))
    return _so_far(config, contestants, runs, t0, skipped)


def _so_far(
    config: ArenaConfig,
    contestants: tuple[str, ...],
    runs: Sequence[WindowRun],
    t0: float,
    skipped: tuple[tuple[str, str], ...],
) -> ArenaRun:
    return ArenaRun(
        arena_id(config),
        config,
        contestants,
        tuple(config.arena.baselines),
        tuple(runs),
        time.perf_counter() - t0,
        skipped,
    )
