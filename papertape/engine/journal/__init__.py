"""Journals: the durable record of a run's event stream.

``journals/<run-id>/`` holds an append-only JSONL log (the record), a SQLite index, the
resolved config and a manifest; :class:`JournalStore` writes them with one group commit per
tick. ``papertape run --resume`` continues a run from its journal
(:mod:`engine.journal.replay.resume`); :mod:`engine.journal.postgres` mirrors journals and
market history into PostgreSQL; :func:`follow` tails a running session from another process.
See docs/storage.md and docs/events.md.
"""

from papertape.engine.journal.attach import durability_of, open_journal, run_dir_of
from papertape.engine.journal.follow import follow
from papertape.engine.journal.jsonl import encode_event, read_journal, scan_lines
from papertape.engine.journal.lock import is_live
from papertape.engine.journal.replay.state import JournalState, fold
from papertape.engine.journal.sqlite import JournalIndex
from papertape.engine.journal.writer import Durability, JournalMirror, JournalStore

__all__ = [
    "Durability",
    "JournalIndex",
    "JournalMirror",
    "JournalState",
    "JournalStore",
    "durability_of",
    "encode_event",
    "fold",
    "follow",
    "is_live",
    "open_journal",
    "read_journal",
    "run_dir_of",
    "scan_lines",
]
