"""The monitor app, headless: Pilot presses keys and the tests assert what changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from papertape.engine.journal import read_journal
from papertape.monitor.app import MonitorApp
from papertape.monitor.screens import DecisionScreen, HelpScreen
from papertape.monitor.source import InProcessSession, RunFolder
from papertape.monitor.widgets import JournalLog, Leaderboard, ScrubBar

from .conftest import quick_config

pytestmark = pytest.mark.anyio

SIZE = (140, 45)


async def test_finished_run_opens_at_its_end_with_every_trader(demo_dir: Path) -> None:
    app = MonitorApp(RunFolder(demo_dir))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.cursor is None
        assert app.state().finished
        assert app.screen.query_one(Leaderboard).row_count == 3
        journal = app.screen.query_one(JournalLog)
        assert journal.selected_seq() == len(list(read_journal(demo_dir))) - 1
        assert "END" in str(app.screen.query_one(ScrubBar).render())


async def test_pause_scrub_back_and_forward_show_earlier_states(demo_dir: Path) -> None:
    app = MonitorApp(RunFolder(demo_dir))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        last = len(app.timeline.times) - 1
        await pilot.press("space")
        assert (app.cursor, app.playing) == (last, False)
        for _ in range(20):
            await pilot.press("left_square_bracket")
        assert app.cursor == last - 20
        earlier = app.state()
        assert earlier.time == app.timeline.times[last - 20]
        assert not earlier.finished
        assert earlier.seq < app.timeline.latest().seq
        assert app.screen.query_one(JournalLog).selected_seq() == earlier.seq
        await pilot.press("right_square_bracket")
        assert app.cursor == last - 19
        await pilot.press("home")
        assert app.cursor == 0 and app.state().seq == 0
        await pilot.press("end")
        assert app.cursor is None


async def test_speed_scales_the_scrub_step_and_play_moves_the_cursor(demo_dir: Path) -> None:
    app = MonitorApp(RunFolder(demo_dir), refresh_s=0.05)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("home")
        await pilot.press("plus", "plus")
        assert app.speed == 4
        await pilot.press("right_square_bracket")
        assert app.cursor == 4
        await pilot.press("space")
        assert app.playing
        await pilot.pause(0.3)
        assert app.cursor is not None and app.cursor > 4
        await pilot.press("space")
        assert not app.playing
        await pilot.press("minus", "minus", "minus")
        assert app.speed == 1


async def test_focus_and_kind_filters_narrow_the_journal(demo_dir: Path) -> None:
    app = MonitorApp(RunFolder(demo_dir))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("t")
        assert app.focus == "sma_50_200"
        await pilot.press("k")
        assert app.kind == "fill"
        table = app.screen.query_one(JournalLog)
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        assert rows and all(r[2] == "fill" and r[3] == "sma_50_200" for r in rows)
        await pilot.press("t", "t", "t")
        assert app.focus is None


async def test_decision_screen_shows_the_llm_reasoning(demo_dir: Path) -> None:
    app = MonitorApp(RunFolder(demo_dir))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("t", "t", "t")  # llm_gemma
        assert app.focus == "llm_gemma"
        await pilot.press("k", "k", "k", "k", "k")  # llm_
        assert app.kind == "llm_"
        await pilot.press("d")
        assert isinstance(app.screen, DecisionScreen)
        rec = app.screen.record
        assert rec.strategy == "llm_gemma" and rec.llm is not None
        text = str(app.screen.query_one("#decision-text").render())
        assert rec.reasoning in text and "prompt sha256" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, DecisionScreen)


async def test_help_lists_every_key_and_closes(demo_dir: Path) -> None:
    app = MonitorApp(RunFolder(demo_dir))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-text").render())
        for word in ("pause/resume", "back", "forward", "trader", "kind filter", "decision"):
            assert word in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("q")
    assert app.return_code == 0


@pytest.mark.slow
async def test_in_process_session_reaches_the_journals_final_state(tmp_path: Path) -> None:
    session = InProcessSession(quick_config(tmp_path))
    app = MonitorApp(session, refresh_s=0.05)
    async with app.run_test(size=SIZE) as pilot:
        session.start()
        for _ in range(400):
            await pilot.pause(0.05)
            if not session.running and app.state().finished:
                break
        state = app.state()
        assert state.finished and session.error is None
        assert session.run_dir is not None
        recorded = list(read_journal(session.run_dir))
        assert state.seq == recorded[-1]["seq"]
        for sid, summary in recorded[-1]["summary"].items():
            assert state.traders[sid].equity == pytest.approx(summary["final_equity"])
        # telemetry samples arrived (every step): the curve has far more marks than fills
        fills = sum(1 for ev in recorded if ev["kind"] == "fill")
        assert len(state.traders["sma_50_200"].curve) > fills
        assert session.channel.offered > 0


async def test_keys_on_a_modal_do_not_crash_and_enter_closes_a_decision(demo_dir: Path) -> None:
    app = MonitorApp(RunFolder(demo_dir))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("d")
        assert isinstance(app.screen, DecisionScreen)
        await pilot.press("home", "enter")
        assert not isinstance(app.screen, DecisionScreen)
        assert app.cursor == 0
        await pilot.press("question_mark", "end", "d", "escape")
        assert not isinstance(app.screen, HelpScreen | DecisionScreen)
        assert app.cursor is None


def test_the_core_and_the_state_model_do_not_import_textual() -> None:
    import subprocess
    import sys

    code = (
        "import sys, papertape, papertape.engine.cli.main, papertape.monitor.state, "
        "papertape.monitor.source; print('textual' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


class NothingYet:
    """A source whose run has not written anything yet (a monitor attached at its start)."""

    title = "starting"
    running = True

    def poll(self) -> tuple[list[dict[str, object]], list[object]]:
        return [], []

    def close(self) -> None:
        """Nothing to stop."""


async def test_scrub_keys_before_the_first_event_keep_following() -> None:
    app = MonitorApp(NothingYet(), refresh_s=0.05)  # type: ignore[arg-type]
    async with app.run_test(size=SIZE) as pilot:
        for key in ("space", "left_square_bracket", "right_square_bracket", "home", "space"):
            await pilot.press(key)
        await pilot.pause(0.1)
        assert app.is_running and app.cursor is None  # nothing to pause on: still live
        assert "LIVE" in str(app.screen.query_one(ScrubBar).render())


async def test_the_status_line_says_end_when_the_run_stops_without_a_new_event(
    demo_dir: Path,
) -> None:
    source = RunFolder(demo_dir)
    events, _ = source.poll()

    class EndsQuietly:
        """A followed run whose last events arrived before its writer let go."""

        title = "quiet"
        running = True
        controllable = True
        sent = False

        def poll(self) -> tuple[list[dict[str, object]], list[object]]:
            if self.sent:
                return [], []
            self.sent = True
            return events, []  # type: ignore[return-value]

        def control(self, state: object) -> None:
            """Nothing to control."""

        def close(self) -> None:
            """Nothing to stop."""

    quiet = EndsQuietly()
    app = MonitorApp(quiet, refresh_s=0.05)  # type: ignore[arg-type]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        assert "LIVE" in str(app.screen.query_one(ScrubBar).render())
        assert "engine: max" in str(app.screen.query_one(ScrubBar).render())
        quiet.running = False  # the writer let go; nothing new to read
        await pilot.pause(0.2)
        status = str(app.screen.query_one(ScrubBar).render())
        assert "END" in status and "read-only" in status
