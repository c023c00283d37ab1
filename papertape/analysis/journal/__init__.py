"""Readers of run journals: what-if replays, statistics and attribution, full-text search."""

from __future__ import annotations

from papertape.analysis.journal.whatif import TradeRow, WhatIf, parse_when, trades_of, what_if

__all__ = ["TradeRow", "WhatIf", "parse_when", "trades_of", "what_if"]
