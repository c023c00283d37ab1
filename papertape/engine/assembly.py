"""Assembly shared by replay and live sessions: plugins, slots, shields, journal, results.

The one place where a config becomes plugin-manager registrations (the built-in plugins
through :mod:`papertape.engine.registry`, annotators, the journal, extra consumers) and
strategy slots, and where a finished engine becomes a :class:`SessionResult`. Replay
(:mod:`papertape.engine.session`) and live (:mod:`papertape.engine.live.session`) sessions
both build on it and no longer import each other for it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

import numpy as np
import pluggy

from papertape.engine.containment import CONTAINED
from papertape.engine.errors import ConfigError, PluginError
from papertape.engine.loop import Engine, SlotSpec
from papertape.engine.metrics import ClosedTrade, PerformanceReport, compute_metrics
from papertape.engine.registry import Catalog, build_catalog, make_plugin_manager

if TYPE_CHECKING:
    from pathlib import Path

    from papertape.engine.config import RunConfig
    from papertape.engine.feeds.base import BarSeries
    from papertape.engine.journal import JournalStore
    from papertape.engine.risk.base import Shield
    from papertape.engine.strategy import Strategy

__all__ = [
    "Assembly",
    "SessionResult",
    "StrategyResult",
    "assemble",
    "build_slots",
    "data_hash",
    "papertape_version",
    "results_of",
]

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


@dataclass(slots=True)
class Assembly:
    """What a config assembles into before an engine is built around it."""

    pm: pluggy.PluginManager
    slots: list[SlotSpec]
    global_shields: list[Shield]
    writer: JournalStore | None


def assemble(
    config: RunConfig,
    journal: bool | None = None,
    extra_plugins: Sequence[object] = (),
    resume: str | Path | None = None,
) -> Assembly:
    """Plugin manager, slots, portfolio-level shields, annotators, journal and extra plugins.

    ``journal`` overrides ``[journal] enabled``; ``resume`` names a run folder to continue.
    """
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
        from papertape.engine.journal import open_journal

        writer = open_journal(config, resume)
        pm.register(writer, "papertape.journal")
    for i, plugin in enumerate(extra_plugins):
        pm.register(plugin, f"papertape.extra.{i}")
    try:
        pm.check_pending()  # an extra plugin's misspelt (or retired) hook fails here, loudly
    except pluggy.PluginValidationError as exc:
        if writer is not None:
            writer.close()
        raise PluginError(f"a plugin implements an unknown hook (misspelt?): {exc}") from None
    return Assembly(pm, slots, global_shields, writer)


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
        report = compute_metrics(
            curve, t, slot.portfolio.trades, risk_free=engine.settings.risk_free
        )
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
