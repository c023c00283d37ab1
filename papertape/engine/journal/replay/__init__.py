"""Reading runs back: the journal's view of a run, resuming and replaying it.

``papertape journal replay`` re-runs a run from its recorded decisions without any model.
"""

from papertape.engine.journal.replay.decisions import (
    RecordedDecisions,
    RecordedRegimes,
    RecordedSlot,
    signal_of,
)
from papertape.engine.journal.replay.rerun import ReplayResult, first_difference, replay_run
from papertape.engine.journal.replay.resume import ResumeResult, load_run, resume_session
from papertape.engine.journal.replay.state import JournalState, StrategyState, WorkingOrder, fold

__all__ = [
    "JournalState",
    "RecordedDecisions",
    "RecordedRegimes",
    "RecordedSlot",
    "ReplayResult",
    "ResumeResult",
    "StrategyState",
    "WorkingOrder",
    "first_difference",
    "fold",
    "load_run",
    "replay_run",
    "resume_session",
    "signal_of",
]
