"""The arena view of the monitor, headless on the recorded arena: board, keys, windows."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from papertape.arena.watch import PROGRESS_FILE
from papertape.engine.telemetry_file import CONTROL_NAME, ControlState, read_control
from papertape.engine.watch import RUN_DIR_FILE
from papertape.monitor.app import PACE_START, MonitorApp
from papertape.monitor.widgets import ArenaBoard, ScrubBar

from .conftest import ARENA, RecordedArena, arena_handover

pytestmark = pytest.mark.anyio

SIZE = (140, 45)
NO_TICK = 600.0  # seconds between frames: only the first frame and the keys draw


def status(app: MonitorApp) -> str:
    return str(app.screen.query_one(ScrubBar).render())


def board_rows(app: MonitorApp) -> list[list[str]]:
    board = app.screen.query_one(ArenaBoard)
    return [[str(cell) for cell in board.get_row_at(i)] for i in range(board.row_count)]


class RunningArena(RecordedArena):
    """The recorded arena as if its child were still playing its last window."""

    running = True  # type: ignore[assignment]


async def test_the_board_shows_the_stored_leaderboard_on_the_first_frame(
    recorded_arena: RecordedArena,
) -> None:
    stored = json.loads((ARENA / PROGRESS_FILE).read_text(encoding="utf-8"))
    rows = stored["summary"]["leaderboards"]["real"]["rows"]
    app = MonitorApp(recorded_arena, refresh_s=NO_TICK)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        shown = board_rows(app)
        title = str(app.screen.query_one(ArenaBoard).border_title)
    assert "2017-01-03..2017-12-29 (2/2 done)" in title
    assert [r[1] for r in shown] == [r["trader"] for r in rows]  # best first, every trader
    for cells, row in zip(shown, rows, strict=True):
        assert cells[3] == f"{row['total_return']:+.2%}"
        assert cells[4] == f"{row['sharpe']:.2f}"
        assert cells[5] == f"{row['max_drawdown']:.2%}"  # a drawdown is a loss, not a gain
        assert cells[6] == str(row["trades"])
        assert cells[7] == (row.get("verdict") or "")  # baselines have none


async def test_pause_and_pace_keys_reach_every_window_through_the_hand_over_folder(
    tmp_path: Path,
) -> None:
    handover = arena_handover(tmp_path)
    arena = RunningArena(handover, tmp_path / "journals")
    control = handover / CONTROL_NAME
    app = MonitorApp(arena, refresh_s=NO_TICK)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "LIVE" in status(app) and "engine: max" in status(app)
        await pilot.press("space")  # pause the view: the arena's engine waits
        assert read_control(control) == ControlState(paused=True)
        assert "PAUSED" in status(app) and "engine: paused" in status(app)
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert app.cursor == len(app.timeline.times) - 3 and read_control(control).paused
        await pilot.press("end")  # back to the live edge: it runs again
        assert read_control(control) == ControlState()
        await pilot.press("minus")  # at the live edge, the pace of the engine
        assert read_control(control) == ControlState(pace=PACE_START)
        assert "engine: 1,024 bars/s" in status(app)
        await pilot.press("plus")
        assert read_control(control) == ControlState(pace=2 * PACE_START)
    arena.close()
    assert not (arena.run_dir / CONTROL_NAME).exists()  # the window's folder is left alone


async def test_a_window_that_starts_under_a_paused_view_is_followed_and_runs(
    tmp_path: Path,
) -> None:
    """Paused as a window ended: the next window starts paused (it obeys the hand-over
    folder); the view moves to it at its live edge, so the engine must run again."""
    handover = arena_handover(tmp_path)
    arena = RunningArena(handover, tmp_path / "journals")
    control = handover / CONTROL_NAME
    app = MonitorApp(arena, refresh_s=NO_TICK)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("space")
        assert read_control(control).paused
        following = shutil.copytree(ARENA / "window", tmp_path / "next-window")
        (handover / RUN_DIR_FILE).write_text(str(following), encoding="utf-8")
        app.tick()  # the frame that finds the next window
        await pilot.pause()
        assert arena.generation == 1 and app.cursor is None
        assert "LIVE" in status(app) and "engine: max" in status(app)
        assert read_control(control) == ControlState()  # what the status line says
