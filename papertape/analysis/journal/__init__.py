"""Readers of run journals: what-if replays, statistics and attribution, full-text search."""

from __future__ import annotations

from papertape.analysis.journal.search import SearchHit, search_journal, searchable_text
from papertape.analysis.journal.shields import ShieldEffect, saved_by_shield, shield_effects
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
    live_target,
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
    "ShieldEffect",
    "TradeRow",
    "WhatIf",
    "closes_of",
    "compare_trades",
    "journal_stats",
    "live_target",
    "parse_when",
    "saved_by_shield",
    "search_journal",
    "searchable_text",
    "shield_effects",
    "trades_of",
    "what_if",
]
