"""From a run config to its journal: the embedded store plus, when configured, the mirror."""

from __future__ import annotations

import logging
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

from papertape.engine.journal.writer import Durability, JournalStore

if TYPE_CHECKING:
    from papertape.engine.config import RunConfig

__all__ = ["durability_of", "open_journal", "run_dir_of"]

log = logging.getLogger("papertape.journal")


def durability_of(config: RunConfig) -> Durability:
    """``journal.durability`` resolved: ``auto`` is ``fsync`` live, ``batch`` for replays.

    A replay is deterministic and a resume re-executes it from its first bar, so the few
    ticks a killed replay held back cost nothing but their re-execution; a live session
    cannot be re-run, so every tick goes to the disk before the next one.
    """
    chosen = config.journal.durability
    if chosen == "auto":
        return "fsync" if config.run.mode == "live" else "batch"
    return chosen


def index_of(config: RunConfig) -> bool:
    """``journal.index`` resolved: ``auto`` keeps the index while the run goes on only live.

    A replay's index is built by its first reader instead (``papertape journal show`` or
    ``index``): keeping it current cost about a fifth of a backtest's time per signal, for
    an index most backtests and sweep runs never consult.
    """
    chosen = config.journal.index
    if chosen == "auto":
        return config.run.mode == "live"
    return bool(chosen)


def run_dir_of(config: RunConfig) -> Path:
    """``<journal.dir>/<run id>``."""
    return Path(config.journal.dir) / config.run_id


def _version() -> str:
    try:
        return version("papertape")
    except PackageNotFoundError:
        return "0+unknown"


def open_journal(config: RunConfig, resume: str | Path | None = None) -> JournalStore:
    """Open the journal store of a run (a new one, or ``resume`` to continue one).

    With a ``[postgres]`` section whose ``journal`` is on, a :class:`PostgresMirror` is
    attached: every committed line is shipped to the database from a thread of its own.

    Raises:
        JournalError: The folder cannot be written, is in use, or cannot be resumed.
        ConfigError: ``[postgres]`` names an environment variable that holds no DSN.
    """
    run_dir = Path(resume) if resume is not None else run_dir_of(config)
    pg = config.postgres
    dsn = None
    if pg is not None and pg.journal:
        from papertape.engine.journal.postgres import config_dsn
        from papertape.engine.journal.postgres.connection import check_login

        dsn = config_dsn(config)  # fail on a missing DSN before touching the folder
        check_login(dsn)  # ... and on a wrong password: once, clearly, not all run long
    store = JournalStore(
        run_dir,
        durability=durability_of(config),
        index=index_of(config),
        resume=resume is not None,
        config=config.canonical(),
        base_dir=config.base_dir,
        version=_version(),
    )
    if dsn is not None and pg is not None:
        from papertape.engine.journal.postgres import PostgresMirror

        store.add_mirror(
            PostgresMirror(
                dsn,
                config.run_id,
                store.path,
                reset=resume is None,
                buffer=pg.buffer,
                drain_timeout=pg.drain_timeout,
            )
        )
    return store
