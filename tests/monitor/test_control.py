"""Any monitor attached to a run that obeys control.json pauses and paces it; others read only."""

from __future__ import annotations

from pathlib import Path

import pytest

from papertape.engine.telemetry_file import (
    CONTROL_NAME,
    TELEMETRY_NAME,
    ControlState,
    read_control,
)
from papertape.monitor.app import PACE_START, MonitorApp
from papertape.monitor.child import ChildSession
from papertape.monitor.source import RunFolder
from papertape.monitor.widgets import ScrubBar

from .test_child import slow_config

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def status(app: MonitorApp) -> str:
    return str(app.screen.query_one(ScrubBar).render())


async def test_an_attached_monitor_pauses_and_paces_a_watched_run(tmp_path: Path) -> None:
    session = ChildSession(slow_config(tmp_path / "journals"), poll=0.02)  # `run --tui`'s child
    try:
        run_dir = session.start()
        source = RunFolder(run_dir, poll=0.02)  # `papertape monitor RUN_DIR`, a second monitor
        assert source.followed and source.controllable
        app = MonitorApp(source, refresh_s=0.05)
        side = run_dir / TELEMETRY_NAME
        async with app.run_test(size=(140, 45)) as pilot:
            for _ in range(200):  # until the run is well under way
                await pilot.pause(0.05)
                if len(app.timeline.times) > 20:
                    break
            assert "engine: max" in status(app)
            await pilot.press("space")
            assert "engine: paused" in status(app)
            await pilot.pause(0.6)  # the engine looks at the file every 0.1 s
            size = side.stat().st_size
            await pilot.pause(0.8)
            assert side.stat().st_size == size, "the engine went on under a paused monitor"
            # Two monitors: the last one to ask wins (here the one that started the run).
            session.control(ControlState(paused=False))
            await pilot.pause(0.8)
            assert side.stat().st_size > size, "the other monitor's resume was not obeyed"
            await pilot.press("end")  # back to the live edge: this monitor resumes too
            await pilot.press("minus")
            assert app.pace == PACE_START and "engine: 1,024 bars/s" in status(app)
            assert read_control(run_dir / CONTROL_NAME) == ControlState(pace=PACE_START)
            await pilot.press("space")  # paused again, then quit while paused
            assert read_control(run_dir / CONTROL_NAME).paused
        source.close()  # what `papertape monitor` does when it closes
        assert read_control(run_dir / CONTROL_NAME) == ControlState()  # runs free again
        size = side.stat().st_size
        assert session.wait(timeout=60) == 0, "the run did not finish after the monitor quit"
        assert side.stat().st_size > size
        # Finished: the folder is read-only now, whatever control.json holds.
        finished = RunFolder(run_dir)
        assert not finished.controllable
        app = MonitorApp(finished, refresh_s=0.05)
        async with app.run_test(size=(140, 45)) as pilot:
            await pilot.pause(0.1)
            assert "read-only" in status(app) and "engine:" not in status(app)
            await pilot.press("space")  # pausing the view writes nothing
        assert read_control(run_dir / CONTROL_NAME) == ControlState()
    finally:
        session.close()
        session.stop()
        session.cleanup()
