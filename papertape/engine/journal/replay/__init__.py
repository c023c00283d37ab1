"""Reading runs back: the journal's view of a run, and resuming an interrupted one."""

from papertape.engine.journal.replay.resume import ResumeResult, load_run, resume_session
from papertape.engine.journal.replay.state import JournalState, StrategyState, WorkingOrder, fold

__all__ = [
    "JournalState",
    "ResumeResult",
    "StrategyState",
    "WorkingOrder",
    "fold",
    "load_run",
    "resume_session",
]
