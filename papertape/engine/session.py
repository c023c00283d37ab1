"""Assemble and run a session from a :class:`~engine.config.RunConfig`.

Steps, in order: load and validate data → build the plugin manager and catalog → instantiate
strategies, sizers and shields (parameter errors name the key) → attach the journal → run →
compute metrics per strategy.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

import numpy as np

from papertape.engine.containment import CONTAINED
from papertape.engine.errors import ConfigError
from papertape.engine.execution.fees import FeeSchedule
from papertape.engine.execution.simulator import ExecutionSimulator
from papertape.engine.execution.slippage import FixedSlippage, SlippageModel, VolatilitySlippage
from papertape.engine.feeds.loader import load_bars
from papertape.engine.journal import JournalStore, open_journal
from papertape.engine.loop import Engine, EngineSettings, RunInfo, SlotSpec
from papertape.engine.metrics import ClosedTrade, PerformanceReport, compute_metrics
from papertape.engine.registry import Catalog, build_catalog, make_plugin_manager

if TYPE_CHECKING:
    from pathlib import Path

    from papertape.engine.config import RunConfig
    from papertape.engine.feeds.base import BarSeries
    from papertape.engine.strategy import Strategy

__all__ = ["SessionResult", "StrategyResult", "build_engine", "data_hash", "run_session"]

log = logging.getLogger("papertape.session")


def papertape_version() -> str:
    """Installed package version (``0+unknown`` from a bare checkout)."""
    try:
        return version("papertape")
    except PackageNotFoundError:
        return "0+unknown"


def data_hash(series: Sequence[BarSeries]) -> str:
    """SHA-256 over every symbol's name and columns (what the run actually saw)."""
    h = hashlib.sha256()
    for s in series:
        h.update(s.symbol.encode())
        for col in (s.time, s.open, s.high, s.low, s.close, s.volume):
            h.update(np.ascontiguousarray(col).data)
    return h.hexdigest()


@dataclass(frozen=True, slots=True)
class StrategyResult:
    """One strategy's outcome."""

    id: str
    strategy: str
    metrics: PerformanceReport
    trades: tuple[ClosedTrade, ...]
    equity: np.ndarray[Any, np.dtype[np.float64]]
    errors: int
    enabled: bool
    stats: dict[str, Any] = field(default_factory=dict)  # Strategy.stats(), e.g. LLM usage


@dataclass(frozen=True, slots=True)
class SessionResult:
    """Everything a run produced that reports and the CLI print."""

    run_id: str
    bars: int
    seconds: float
    symbols: tuple[str, ...]
    strategies: dict[str, StrategyResult]
    event_counts: dict[str, int]
    rejections: dict[str, dict[str, int]]
    journal_path: Path | None


def load_series(config: RunConfig) -> list[BarSeries]:
    """Load every data file of the config."""
    from papertape.engine.config import resolve_data_path

    out = []
    for i, feed in enumerate(config.data):
        if feed.source == "postgres":
            from papertape.engine.journal.postgres import load_feed

            out.append(load_feed(config, i))
            continue
        path = resolve_data_path(feed.path, config.base_dir)
        out.append(load_bars(path, symbol=feed.symbol, kind=feed.kind, timeframe=feed.timeframe))
        if not len(out[-1]):
            raise ConfigError(f"data.{i}.path", feed.path, "no valid rows in this file")
    return out


def _slippage(config: RunConfig) -> SlippageModel:
    s = config.execution.slippage
    if s.model == "volatility":
        return VolatilitySlippage(k=s.k, window=s.window, floor_bps=s.bps)
    return FixedSlippage(bps=s.bps)


def build_slots(config: RunConfig, catalog: Catalog) -> list[SlotSpec]:
    """Instantiate every configured strategy with its sizer and shields."""
    slots = []
    for i, sc in enumerate(config.strategies):
        cls = catalog.strategy(sc.name)
        try:
            strategy = cls(**sc.params)
            sizer = catalog.sizer(sc.sizer.name)(**sc.sizer.params)
            shields = [catalog.shield(ref.name)(**ref.params) for ref in sc.shields]
        except ConfigError as exc:
            raise ConfigError(f"strategies.{i}.{exc.key}", exc.value, exc.reason) from None
        slots.append(
            SlotSpec(
                sc.slot_id,
                strategy,
                sizer,
                shields,
                sc.symbols,
                sc.initial_cash or config.run.initial_cash,
            )
        )
    return slots


def build_engine(
    config: RunConfig,
    series: Sequence[BarSeries] | None = None,
    journal: bool | None = None,
    extra_plugins: Sequence[object] = (),
    resume: str | Path | None = None,
) -> tuple[Engine, JournalStore | None]:
    """Create a ready-to-run engine (and its journal writer) from a config.

    ``resume`` names a run folder to continue (see ``engine.journal.replay.resume``).
    """
    series = list(series) if series is not None else load_series(config)
    pm, broken = make_plugin_manager(config.plugins.strategy_dirs, config.plugins.entry_points)
    catalog = build_catalog(pm, broken)
    slots = build_slots(config, catalog)
    try:
        global_shields = [catalog.shield(r.name)(**r.params) for r in config.shields]
    except ConfigError as exc:
        raise ConfigError(f"shields.{exc.key}", exc.value, exc.reason) from None
    if config.annotators:
        from papertape.plugins.regime import build_annotators

        for i, annotator in enumerate(build_annotators(config.annotators, config.base_dir)):
            pm.register(annotator, f"papertape.annotator.{i}")
    writer = None
    if config.journal.enabled if journal is None else journal:
        writer = open_journal(config, resume)
        pm.register(writer, "papertape.journal")
    for i, plugin in enumerate(extra_plugins):
        pm.register(plugin, f"papertape.extra.{i}")
    ex = config.execution
    settings = EngineSettings(
        simulator=ExecutionSimulator(
            FeeSchedule(ex.maker_bps, ex.taker_bps), _slippage(config), ex.fill_at
        ),
        max_strategy_errors=config.run.max_strategy_errors,
        strategy_budget_s=config.run.strategy_budget_s,
        mark_every=config.journal.mark_every,
    )
    info = RunInfo(
        config.run_id,
        config.config_hash,
        data_hash(series),
        config.run.seed,
        config.run.mode,
        papertape_version(),
    )
    try:
        engine = Engine(series, slots, pm, settings, info, global_shields)
    except BaseException:
        if writer is not None:
            writer.close()
        raise
    return engine, writer


def _strategy_stats(strategy: Strategy) -> dict[str, Any]:
    """``strategy.stats()``, contained: a failing or non-dict answer is logged, not fatal."""
    try:
        stats = strategy.stats()
    except CONTAINED as exc:  # user code (sys.exit() included)
        log.warning("strategy %s: stats() raised %s: %s", strategy.name, type(exc).__name__, exc)
        return {}
    return dict(stats) if isinstance(stats, dict) else {}


def results_of(engine: Engine, seconds: float, journal: JournalStore | None) -> SessionResult:
    """Compute per-strategy metrics once a run has finished."""
    times = (
        np.frombuffer(engine.step_times, dtype=np.int64)
        if engine.step_times
        else np.zeros(0, np.int64)
    )
    out: dict[str, StrategyResult] = {}
    for slot in engine.slots:
        curve = np.frombuffer(slot.portfolio.curve, dtype=np.float64).copy()
        if len(curve) == 0:
            curve = np.array([slot.portfolio.initial_cash])
            t = np.zeros(1, dtype=np.int64)
        else:
            t = times
        report = compute_metrics(curve, t, slot.portfolio.trades)
        steps = max(len(curve), 1)
        report = replace(report, exposure=slot.exposed_steps / steps)
        out[slot.id] = StrategyResult(
            slot.id,
            slot.strategy.name,
            report,
            tuple(slot.portfolio.trades),
            curve,
            slot.errors,
            slot.enabled,
            _strategy_stats(slot.strategy),
        )
    return SessionResult(
        engine.run_info.run_id,
        sum(len(s) for s in engine.series),
        seconds,
        engine.symbols,
        out,
        dict(engine.event_counts),
        {
            s.symbol: s.rejections.as_dict()
            for s in engine.series
            if s.rejections and s.rejections.total
        },
        journal.path if journal is not None else None,
    )


def run_session(
    config: RunConfig,
    series: Sequence[BarSeries] | None = None,
    journal: bool | None = None,
    extra_plugins: Sequence[object] = (),
) -> SessionResult:
    """Build, run and summarise a session (``run.mode = "live"``: a live paper session)."""
    if config.run.mode == "live":
        from papertape.engine.live.session import run_live

        return run_live(config, journal=journal, extra_plugins=extra_plugins)
    engine, writer = build_engine(config, series, journal, extra_plugins)
    start = time.perf_counter()
    try:
        engine.run_sync()
    finally:
        if writer is not None:
            writer.close()
    seconds = time.perf_counter() - start
    return results_of(engine, seconds, writer)
