"""Assemble and run a session from a :class:`~engine.config.RunConfig`.

Steps, in order: load and validate data, cut to the ``[run]`` window → plugins, strategies,
sizers, shields and the journal (:func:`~papertape.engine.assembly.assemble`, shared with
live sessions) → run → compute metrics per strategy (``results_of``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from papertape.engine.assembly import (
    SessionResult,
    StrategyResult,
    assemble,
    build_slots,
    data_hash,
    papertape_version,
    results_of,
)
from papertape.engine.errors import ConfigError, RunInterrupted
from papertape.engine.execution.account import Account
from papertape.engine.execution.fees import FeeSchedule
from papertape.engine.execution.simulator import ExecutionSimulator
from papertape.engine.execution.slippage import FixedSlippage, SlippageModel, VolatilitySlippage
from papertape.engine.feeds.base import BarSeries
from papertape.engine.feeds.loader import load_bars
from papertape.engine.journal import JournalStore
from papertape.engine.loop import Engine, EngineSettings, RunInfo

if TYPE_CHECKING:
    from pathlib import Path

    from papertape.engine.config import RunConfig

__all__ = [
    "SessionResult",
    "StrategyResult",
    "build_engine",
    "build_slots",
    "data_hash",
    "identified",
    "papertape_version",
    "results_of",
    "run_session",
    "window_of",
]

log = logging.getLogger("papertape.session")


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
        out.append(
            load_bars(
                path,
                symbol=feed.symbol,
                kind=feed.kind,
                timeframe=feed.timeframe,
                max_rejected_share=feed.max_rejected_share,
            )
        )
        if not len(out[-1]):
            raise ConfigError(f"data.{i}.path", feed.path, "no valid rows in this file")
    return out


def _instant(text: str | None, key: str) -> int | None:
    """An ISO date or date-time (UTC) as ns since the epoch."""
    if text is None:
        return None
    try:
        return int(np.datetime64(text.rstrip("Z"), "ns").astype(np.int64))
    except ValueError:
        raise ConfigError(key, text, "not an ISO date or date-time (UTC)") from None


def window_of(config: RunConfig, series: Sequence[BarSeries]) -> tuple[list[BarSeries], int | None]:
    """Cut each series to ``[run] start``/``end`` plus ``warmup_bars`` before the start.

    Returns the cut series and the start (ns) to hand to the engine as ``trade_from``, or the
    series unchanged and None when the config sets no window.
    """
    run = config.run
    start = _instant(run.start, "run.start")
    end = _instant(run.end, "run.end")
    if start is None and end is None:
        return list(series), None
    if start is not None and end is not None and end <= start:
        raise ConfigError("run.end", run.end, f"must be after run.start ({run.start})")
    out = []
    for s in series:
        lo = 0 if start is None else int(np.searchsorted(s.time, start, side="left"))
        hi = len(s) if end is None else int(np.searchsorted(s.time, end, side="left"))
        lo = max(0, lo - run.warmup_bars)
        if hi <= lo:
            raise ConfigError("run.start", run.start, f"{s.symbol} has no bars in the window")
        out.append(
            BarSeries(
                s.symbol,
                s.time[lo:hi],
                s.open[lo:hi],
                s.high[lo:hi],
                s.low[lo:hi],
                s.close[lo:hi],
                s.volume[lo:hi],
                s.source,
                s.rejections,
            )
        )
    return out, start


def identified(config: RunConfig, series: Sequence[BarSeries]) -> RunConfig:
    """``config`` with ``[run] data_hash`` and ``version`` set from the data it runs on.

    Both enter the config hash, so the run id (and the journal folder) differ for different
    data, windows or papertape versions; the journal's ``config.json`` records them, so a
    resume finds the same id again.
    """
    run = config.run.model_copy(
        update={"data_hash": data_hash(series), "version": papertape_version()}
    )
    return config.model_copy(update={"run": run})


def _slippage(config: RunConfig, bps: float | None = None) -> SlippageModel:
    s = config.execution.slippage
    floor = s.bps if bps is None else bps
    if s.model == "volatility":
        return VolatilitySlippage(k=s.k, window=s.window, floor_bps=floor)
    return FixedSlippage(bps=floor)


def engine_settings(
    config: RunConfig,
    trade_from: int | None,
    *,
    fees_bps: float | None = None,
    slippage_bps: float | None = None,
) -> EngineSettings:
    """The engine settings a config asks for (a replay may override fees and slippage)."""
    ex = config.execution
    fees = FeeSchedule(
        ex.maker_bps if fees_bps is None else fees_bps,
        ex.taker_bps if fees_bps is None else fees_bps,
    )
    return EngineSettings(
        simulator=ExecutionSimulator(
            fees,
            _slippage(config, slippage_bps),
            ex.fill_at,
            Account(config.account.type, config.account.max_leverage),
        ),
        max_strategy_errors=config.run.max_strategy_errors,
        strategy_budget_s=config.run.strategy_budget_s,
        mark_every=config.journal.mark_every,
        trade_from=trade_from,
        risk_free=config.metrics.risk_free,
    )


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
    series, trade_from = window_of(config, series if series is not None else load_series(config))
    config = identified(config, series)
    parts = assemble(config, journal, extra_plugins, resume)
    writer = parts.writer
    settings = engine_settings(config, trade_from)
    info = RunInfo(
        config.run_id,
        config.config_hash,
        config.run.data_hash,
        config.run.seed,
        config.run.mode,
        config.run.version,
    )
    try:
        engine = Engine(series, parts.slots, parts.pm, settings, info, parts.global_shields)
    except BaseException:
        if writer is not None:
            writer.close()
        raise
    return engine, writer


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
    except RunInterrupted as exc:
        exc.run_dir = str(writer.run_dir) if writer is not None else None
        raise
    finally:
        if writer is not None:
            writer.close()
    seconds = time.perf_counter() - start
    return results_of(engine, seconds, writer)
