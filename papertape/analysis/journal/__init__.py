"""Readers of run journals: what-if replays, statistics and attribution, full-text search."""

from __future__ import annotations

from papertape.analysis.journal.search import SearchHit, search_journal, searchable_text
from papertape.analysis.journal.stats import (
    Attribution,
    Calibration,
    Group,
    JournalStats,
    closes_of,
    journal_stats,
)
from papertape.analysis.journal.whatif import (
    TradeRow,
    WhatIf,
    compare_trades,
    parse_when,
    trades_of,
    what_if,
)

__all__ = [
    "Attribution",
    "Calibration",
    "Group",
    "JournalStats",
    "SearchHit",
    "TradeRow",
    "WhatIf",
    "closes_of",
    "compare_trades",
    "journal_stats",
    "parse_when",
    "search_journal",
    "searchable_text",
    "trades_of",
    "what_if",
]
