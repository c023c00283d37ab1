"""Snapshot tests of the monitor (pytest-textual-snapshot); update with --snapshot-update.

The header shows no clock and nothing animates (the plot is static, tables do not blink), so
a screen is a pure function of the recorded journal and the keys pressed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from papertape.monitor.app import MonitorApp
from papertape.monitor.source import RunFolder
from papertape.monitor.widgets.journal_log import JournalLog

from .conftest import RecordedArena

SIZE = (140, 45)


async def settled(pilot: Any) -> None:
    """Wait until the journal panel has scrolled to its newest row (the screenshot raced it)."""
    await pilot.pause()
    log = pilot.app.screen.query_one(JournalLog)
    for _ in range(100):
        if log.row_count and log.scroll_y >= log.max_scroll_y:
            return
        await pilot.pause(0.02)


def test_dashboard_at_the_end_of_the_demo(snap_compare: Any, demo_dir: Path) -> None:
    assert snap_compare(MonitorApp(RunFolder(demo_dir)), terminal_size=SIZE, run_before=settled)


def test_scrubbed_back_and_focused_on_one_trader(snap_compare: Any, demo_dir: Path) -> None:
    keys = ["space", *["left_square_bracket"] * 60, "t"]
    assert snap_compare(
        MonitorApp(RunFolder(demo_dir)), press=keys, terminal_size=SIZE, run_before=settled
    )


def test_decision_of_the_llm_trader(snap_compare: Any, demo_dir: Path) -> None:
    keys = ["t", "t", "t", "k", "k", "k", "k", "k", "d"]
    assert snap_compare(
        MonitorApp(RunFolder(demo_dir)), press=keys, terminal_size=SIZE, run_before=settled
    )


def test_arena_leaderboard_at_the_end_of_the_arena(
    snap_compare: Any, recorded_arena: RecordedArena
) -> None:
    assert snap_compare(MonitorApp(recorded_arena), terminal_size=SIZE, run_before=settled)


def test_arena_scrubbed_back_and_focused_on_one_contestant(
    snap_compare: Any, recorded_arena: RecordedArena
) -> None:
    keys = ["space", *["left_square_bracket"] * 20, "t"]
    assert snap_compare(
        MonitorApp(recorded_arena), press=keys, terminal_size=SIZE, run_before=settled
    )
