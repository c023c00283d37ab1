"""The arena: N traders and baselines on one tape, over windows, optionally blind.

Layers, each a small module: ``config`` (the ``[arena]`` table), ``baselines`` (buy-and-hold,
always-flat, seeded random), ``windows`` (disjoint periods with warm-up), ``blind`` (rebased,
date-shifted, ticker-free tape), ``runner`` (one engine session per window), ``tape`` (what is
kept of each run), ``leaderboard`` and ``render`` (the table and ``--json``), ``calibration``
(stated confidence against outcomes), ``significance`` (bootstrap tests against the best
baseline, family-wise corrected), ``contamination`` (does an edge survive blinding) and
``store`` (the run folder the HTML report reads).
"""

from __future__ import annotations

from papertape.arena.config import ArenaConfig, ArenaSettings, load_arena_config, parse_arena_config
from papertape.arena.runner import ArenaRun, WindowRun, run_arena
from papertape.arena.store import arena_document, read_arena, summary, write_arena

__all__ = [
    "ArenaConfig",
    "ArenaRun",
    "ArenaSettings",
    "WindowRun",
    "arena_document",
    "load_arena_config",
    "parse_arena_config",
    "read_arena",
    "run_arena",
    "summary",
    "write_arena",
]
