"""``papertape journal replay``: re-run a recorded session from its decisions, without any model.

:func:`replay_run` rebuilds the run's engine from ``config.json`` with every strategy replaced by
a :class:`~papertape.engine.journal.replay.decisions.RecordedSlot` placeholder and the journal's
decisions served by :class:`~papertape.engine.journal.replay.decisions.RecordedDecisions`.
Sizers, shields and the execution simulator run for real, so changed costs (``fees_bps``,
``slippage_bps``) or cash give the results those decisions would have had. With no change the
replay's journal is compared byte for byte with the recorded one.

The replay writes its own journal to ``out`` (a temporary folder by default): the recorded run
folder is only read.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from papertape.engine.errors import ConfigError, JournalError
from papertape.engine.journal.jsonl import LOG_NAME, read_journal
from papertape.engine.journal.replay.decisions import (
    RecordedDecisions,
    RecordedRegimes,
    RecordedSlot,
)
from papertape.engine.journal.replay.resume import load_run
from papertape.engine.journal.writer import JournalStore

if TYPE_CHECKING:
    from collections.abc import Mapping

    from papertape.engine.registry import Catalog
    from papertape.engine.session import SessionResult
    from papertape.engine.strategy import Strategy

__all__ = ["ReplayResult", "first_difference", "replay_run"]


@dataclass(frozen=True, slots=True)
class ReplayResult:
    """A replayed run.

    Attributes:
        session: Results of the replay (metrics per strategy, as ``papertape run`` computes).
        journal: The replay's own event log.
        changed: Whether anything (costs, cash, swap) differs from the recording.
        difference: ``None`` when the replay's log equals the recorded one byte for byte,
            else a description of the first differing event.
    """

    session: SessionResult
    journal: Path
    changed: bool
    difference: str | None

    @property
    def exact(self) -> bool:
        """The replay reproduced the recorded journal byte for byte."""
        return self.difference is None


def first_difference(recorded: Path, replayed: Path) -> str | None:
    """The first event where two logs differ (None when they are byte-identical)."""
    a = recorded.read_bytes()
    b = replayed.read_bytes()
    if a == b:
        return None
    left, right = a.splitlines(), b.splitlines()
    for seq, (x, y) in enumerate(zip(left, right, strict=False)):
        if x != y:
            return (
                f"event {seq} differs\n  recorded: {x[:300].decode(errors='replace')}\n"
                f"  replayed: {y[:300].decode(errors='replace')}"
            )
    return f"the recorded log has {len(left)} events, the replay {len(right)}"


def _check_swap(swap: Mapping[str, str], ids: list[str]) -> None:
    for a, b in swap.items():
        for name in (a, b):
            if name not in ids:
                raise ConfigError("--swap", f"{a}={b}", f"{name!r} is not a slot ({ids})")


def replay_run(
    run_dir: str | Path,
    *,
    fees_bps: float | None = None,
    slippage_bps: float | None = None,
    cash: float | None = None,
    swap: Mapping[str, str] | None = None,
    window: tuple[int | None, int | None] | None = None,
    live: Mapping[str, tuple[str, Mapping[str, Any]]] | None = None,
    out: str | Path | None = None,
) -> ReplayResult:
    """Re-run a recorded session from its journal's decisions; no model or strategy is called.

    Args:
        run_dir: The recorded run folder.
        fees_bps: Maker and taker fee in bps instead of the recorded ones.
        slippage_bps: Slippage in bps (the floor of a volatility model) instead of the recorded.
        cash: Initial cash of every strategy instead of the recorded.
        swap: Slot -> recorded slot whose decisions it takes (what-if).
        window: ``(start, end)`` market times in ns limiting the swap (None ends are open).
        live: Slot -> ``(strategy name, params)`` of a strategy built and run for real in
            that slot inside ``window`` (what-if with a live strategy or LLM); outside the
            window the slot replays its own recorded decisions.
        out: Folder for the replay's journal (default: a new temporary folder).

    Raises:
        JournalError: Not a replayable run folder, or its data changed since the recording.
        ConfigError: A swap names a slot the run does not have.
    """
    from papertape.engine.loop import Engine, RunInfo, SlotSpec
    from papertape.engine.registry import build_catalog, make_plugin_manager
    from papertape.engine.session import (
        data_hash,
        engine_settings,
        load_series,
        results_of,
        window_of,
    )

    folder = Path(run_dir).resolve()
    config, manifest = load_run(folder)
    if config.run.mode == "live":
        raise JournalError(
            f"{folder.name} is a live session: its market data came from the exchange and is "
            "not in the run folder, so it cannot be replayed"
        )
    records = list(read_journal(folder))
    started = next((r for r in records if r.get("kind") == "run_started"), None)
    if started is None:
        raise JournalError(f"{folder}: the journal has no run_started event")
    ids = [s.slot_id for s in config.strategies]
    swap = dict(swap or {})
    _check_swap(swap, ids)
    live = dict(live or {})
    _check_swap({a: a for a in live}, ids)
    decisions = RecordedDecisions(records, swap, window, live)
    regimes = RecordedRegimes(records)
    changed = any(x is not None for x in (fees_bps, slippage_bps, cash)) or bool(swap or live)
    target = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="papertape-replay-"))
    where = manifest.cwd if os.path.isdir(manifest.cwd) else os.getcwd()
    with contextlib.chdir(where):
        not_fed = (
            f"cannot replay {folder.name}: its data changed since the recording, or the "
            "run was not fed its config's data (an arena's blind tape is built in memory)"
        )
        data = load_series(config)
        try:
            series, trade_from = window_of(config, data)
        except ConfigError as exc:  # the recorded window is not in the data (a blind window)
            raise JournalError(f"{not_fed} ({exc})") from None
        digest = data_hash(series)
        if digest != started.get("data_hash"):
            raise JournalError(
                f"{not_fed} "
                f"(data hash {digest[:12]}, recorded {str(started.get('data_hash'))[:12]})"
            )
        pm, broken = make_plugin_manager(config.plugins.strategy_dirs, config.plugins.entry_points)
        catalog = build_catalog(pm, broken)
        slots = []
        placeholders: dict[str, RecordedSlot] = {}
        for i, sc in enumerate(config.strategies):
            try:
                sizer = catalog.sizer(sc.sizer.name)(**sc.sizer.params)
                shields = [catalog.shield(ref.name)(**ref.params) for ref in sc.shields]
            except ConfigError as exc:
                raise ConfigError(f"strategies.{i}.{exc.key}", exc.value, exc.reason) from None
            stand_in = placeholders[sc.slot_id] = RecordedSlot(decisions)
            strategy: Strategy = stand_in
            if sc.slot_id in live:
                strategy = _live_strategy(catalog, sc.slot_id, *live[sc.slot_id])
            initial = cash if cash is not None else sc.initial_cash or config.run.initial_cash
            slots.append(SlotSpec(sc.slot_id, strategy, sizer, shields, sc.symbols, initial))
        global_shields = [catalog.shield(r.name)(**r.params) for r in config.shields]
        pm.register(decisions, "papertape.replay.decisions")
        if regimes:
            pm.register(regimes, "papertape.replay.regimes")
        writer = JournalStore(target, index=False, config=config.canonical())
        pm.register(writer, "papertape.journal")
        settings = engine_settings(config, trade_from, fees_bps=fees_bps, slippage_bps=slippage_bps)
        info = RunInfo(
            str(started.get("run_id", config.run_id)),
            str(started.get("config_hash", config.config_hash)),
            digest,
            int(started.get("seed", config.run.seed)),
            str(started.get("mode", config.run.mode)),
            str(started.get("version", "")),
        )
        try:
            engine = Engine(series, slots, pm, settings, info, global_shields)
            for slot in engine.slots:
                placeholders[slot.id].view = slot.view
            start = time.perf_counter()
            engine.run_sync()
        finally:
            writer.close()
        seconds = time.perf_counter() - start
    session = results_of(engine, seconds, writer)
    difference = first_difference(folder / LOG_NAME, writer.path)
    return ReplayResult(session, writer.path, changed, difference)


def _live_strategy(catalog: Catalog, slot: str, name: str, params: Mapping[str, Any]) -> Strategy:
    """Build the strategy that runs for real in ``slot`` (a what-if's live swap)."""
    try:
        return catalog.strategy(name)(**params)
    except ConfigError as exc:
        raise ConfigError(f"--swap {slot}: {exc.key}", exc.value, exc.reason) from None


def metrics_row(session: SessionResult) -> dict[str, dict[str, Any]]:
    """Headline figures per strategy (what ``journal replay`` prints side by side)."""
    out: dict[str, dict[str, Any]] = {}
    for sid, r in session.strategies.items():
        m = r.metrics
        out[sid] = {
            "final_equity": m.final_equity,
            "total_return": m.total_return,
            "sharpe": m.sharpe,
            "max_drawdown": m.max_drawdown,
            "trades": m.trades,
            "fees": sum(t.fees for t in r.trades),
        }
    return out
