"""``papertape run --resume RUN_DIR``: continue an interrupted run from its journal.

How a run is rebuilt, and why this way: the engine is deterministic (same config, data and code
give the same event stream), so the run is re-executed from its first bar with the journal
store in *checking* mode. Every event the re-run emits is encoded and compared, byte for byte,
with the journal's next line instead of being written; once the journal runs out, events are
appended after it and the run goes on to its end.

This rebuilds everything a strategy's future depends on, exactly: cash, positions and closed
trades, working orders (bracket legs included, which the journal does not list), risk-shield
states, order ids, the equity curve and the strategies' own internal state (indicators, model
memory). A "warm-up" that replays bars through strategies with orders suppressed and loads
portfolios from the journal would miss shield and bracket state and strategies that read their
own portfolio. The check is stronger than comparing the final portfolio: fill lines carry
``cash_after`` and ``position_after``, so the rebuilt books match the journal at every fill.
If any event differs (the data file, the config or papertape changed) the resume stops with a
:class:`~engine.errors.JournalError` naming the first differing event and changes nothing: the
re-run is written to a file beside the log, which replaces the log only once every intact line
of it has been matched (see :mod:`engine.journal.check`).

Cost: the bars before the interruption are replayed at backtest speed; LLM traders answer from
their replay cache, so no model is called twice. A torn last line (a kill in the middle of a
write) is ignored; a damaged line (a power loss without ``fsync`` can leave zeros) is skipped
and reported, the intact lines after it are still checked, and its event is rewritten by the
re-run. The manifest's resume record says what was found (``torn_bytes``, ``damaged_lines``,
``damaged_bytes``, ``verified``, ``rewritten``).
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from papertape.engine.config import parse_config
from papertape.engine.errors import ConfigError, JournalError
from papertape.engine.journal.manifest import RunManifest, read_config, read_manifest

if TYPE_CHECKING:
    from papertape.engine.config import RunConfig
    from papertape.engine.session import SessionResult

__all__ = ["ResumeResult", "load_run", "resume_session"]


@dataclass(frozen=True, slots=True)
class ResumeResult:
    """A resumed run: its results and what the journal contributed."""

    session: SessionResult
    verified: int  # journaled events the re-run reproduced
    appended: int  # events written after the end of the journal
    torn_bytes: int  # bytes of a torn last line dropped
    damaged: tuple[int, ...] = ()  # line numbers of damaged lines skipped (the first 50)
    rewritten: int = 0  # events whose journal line was damaged, written anew by the re-run


def load_run(run_dir: str | Path) -> tuple[RunConfig, RunManifest]:
    """The config and manifest of a run folder, checked against each other.

    Raises:
        JournalError: Not a run folder, or its config no longer gives its run id.
    """
    folder = Path(run_dir)
    if not folder.is_dir():
        raise JournalError(f"no run folder at {folder}")
    manifest = read_manifest(folder)
    try:
        config = parse_config(read_config(folder), manifest.base_dir)
    except ConfigError as exc:
        raise JournalError(f"{folder}/config.json is no longer a valid config: {exc}") from exc
    if config.run_id != manifest.run_id:
        raise JournalError(
            f"{folder}: config.json gives run id {config.run_id}, the journal is "
            f"{manifest.run_id}; was config.json edited?"
        )
    return config, manifest


def resume_session(run_dir: str | Path) -> ResumeResult:
    """Re-execute a journaled run, checking it against the journal, and finish it.

    The run executes in the working folder it was started from (when that still exists), so
    relative paths in its config mean what they meant.

    Raises:
        JournalError: The folder cannot be resumed, or the re-run differs from the journal.
    """
    from papertape.engine.session import build_engine, results_of

    folder = Path(run_dir).resolve()
    config, manifest = load_run(folder)
    if config.run.mode == "live":
        raise JournalError(
            f"{folder.name} is a live session: its market data came from the exchange and cannot "
            "be replayed, so it cannot be resumed by re-execution; start a new session"
        )
    where = manifest.cwd if os.path.isdir(manifest.cwd) else os.getcwd()
    with contextlib.chdir(where):
        engine, writer = build_engine(config, journal=True, resume=folder)
        assert writer is not None
        start = time.perf_counter()
        try:
            engine.run_sync()
        finally:
            writer.close()
        seconds = time.perf_counter() - start
    session = results_of(engine, seconds, writer)
    return ResumeResult(
        session,
        writer.verified_events,
        writer.events_written - writer.verified_events - writer.rewritten_events,
        writer.torn_bytes,
        writer.damaged_lines,
        writer.rewritten_events,
    )
