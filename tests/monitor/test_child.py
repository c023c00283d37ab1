"""``papertape run --tui``: the engine in a child process, the monitor following its run folder."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from papertape.engine.config import RunConfig, parse_config
from papertape.engine.errors import RunInterrupted
from papertape.engine.journal import read_journal
from papertape.engine.journal.replay import resume_session
from papertape.engine.telemetry_file import TELEMETRY_NAME
from papertape.monitor.app import PACE_START, MonitorApp
from papertape.monitor.child import ChildSession
from papertape.monitor.widgets import ScrubBar

from .conftest import quick_config

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

SLOW = Path(__file__).parent / "data" / "slow_strategies"


def slow_config(journals: Path, sleep_ms: float = 4.0) -> RunConfig:
    """The quick demo plus a strategy that takes ``sleep_ms`` per bar (a run of seconds)."""
    config = quick_config(journals, start="2012-01-01")
    data = config.canonical()
    data["strategies"].append({"name": "slow_hold", "id": "slow", "params": {"sleep_ms": sleep_ms}})
    data["plugins"]["strategy_dirs"] = [str(SLOW)]
    return parse_config(data, config.base_dir)


async def test_the_monitor_follows_a_child_run_to_its_journals_end(tmp_path: Path) -> None:
    session = ChildSession(quick_config(tmp_path / "journals"), poll=0.02)
    try:
        run_dir = session.start()
        app = MonitorApp(session, refresh_s=0.05)
        async with app.run_test(size=(140, 45)) as pilot:
            for _ in range(600):
                await pilot.pause(0.05)
                if app.state().finished and not session.running:
                    break
            await pilot.pause(0.2)
            state = app.state()
        assert session.wait(timeout=60) == 0
        result = session.result()
        assert result is not None and result.bars > 0
        recorded = list(read_journal(run_dir))
        assert state.finished and len(state.journal) == len(recorded)
        for sid, summary in recorded[-1]["summary"].items():
            assert state.traders[sid].equity == pytest.approx(summary["final_equity"])
        # The side file exists, holds samples, and is no part of the journal.
        lines = (run_dir / TELEMETRY_NAME).read_bytes().splitlines()
        assert lines and all(b'"equity"' in line for line in lines)
        assert all(ev["kind"] != "telemetry" for ev in recorded)
    finally:
        session.close()  # no follower thread outlives the test
        session.stop()
        session.cleanup()


async def test_pause_reaches_the_child_and_quit_leaves_a_resumable_journal(tmp_path: Path) -> None:
    session = ChildSession(slow_config(tmp_path / "journals"), poll=0.02)
    try:
        run_dir = session.start()
        app = MonitorApp(session, refresh_s=0.05)
        async with app.run_test(size=(140, 45)) as pilot:
            for _ in range(200):  # until the run is well under way
                await pilot.pause(0.05)
                if len(app.timeline.times) > 20:
                    break
            await pilot.press("space")
            assert app.engine_paused
            assert "engine: paused" in str(app.screen.query_one(ScrubBar).render())
            await pilot.pause(0.6)  # the engine sees the request within ~0.1 s
            # A running engine samples telemetry 20 times a second; a paused one does not.
            side = run_dir / TELEMETRY_NAME
            size = side.stat().st_size
            await pilot.pause(0.8)
            assert side.stat().st_size == size, "the paused engine went on"
            await pilot.press("space")  # resume: play on from the cursor
            assert not app.engine_paused
            await pilot.pause(0.8)
            assert side.stat().st_size > size, "the resumed engine stayed idle"
            await pilot.press("ctrl+c")  # quits the monitor, as q does
        assert not app.is_running
        session.close()  # what `papertape run --tui` does after the monitor closes
        session.stop()
        assert session.wait(timeout=5) == 1  # ended, reporting an interruption
        with pytest.raises(RunInterrupted) as stopped:
            session.raise_failure()
        assert stopped.value.run_dir == str(run_dir)
        resumed = await asyncio.to_thread(resume_session, run_dir)  # it runs its own loop
        assert resumed.verified > 0 and resumed.appended > 0
        assert list(read_journal(run_dir))[-1]["kind"] == "run_finished"
    finally:
        session.close()  # no follower thread outlives the test
        session.stop()
        session.cleanup()


async def test_minus_at_the_live_edge_sets_the_engines_pace(tmp_path: Path) -> None:
    session = ChildSession(slow_config(tmp_path / "journals", sleep_ms=1.0), poll=0.02)
    try:
        run_dir = session.start()
        app = MonitorApp(session, refresh_s=0.05)
        async with app.run_test(size=(140, 45)) as pilot:
            await pilot.press("minus")
            assert app.pace == PACE_START
            for _ in range(10):
                await pilot.press("minus")
            assert app.pace == 1.0  # halved down to one bar a second
            await pilot.pause(0.5)
            side = run_dir / TELEMETRY_NAME
            count = len(side.read_bytes().splitlines())
            await pilot.pause(1.5)
            grown = len(side.read_bytes().splitlines()) - count
            # One sample per step at one step a second (unpaced: ~20 a second).
            assert grown <= 4, f"{grown} steps sampled in 1.5 s at one bar a second"
            for _ in range(20):
                await pilot.press("plus")
            assert app.pace is None  # back to as fast as it can
        session.stop()
    finally:
        session.close()  # no follower thread outlives the test
        session.stop()
        session.cleanup()


def test_a_run_that_cannot_start_says_why(tmp_path: Path) -> None:
    config = quick_config(tmp_path / "journals")
    data = config.canonical()
    data["data"][0]["path"] = str(tmp_path / "missing.csv")
    broken = parse_config(data, config.base_dir)
    session = ChildSession(broken)
    try:
        with pytest.raises(Exception, match=r"missing\.csv"):
            session.start(timeout=60)
    finally:
        session.cleanup()
