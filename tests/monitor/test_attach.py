"""Attach the monitor to a session that another process is running."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from papertape.engine.journal import is_live, read_journal
from papertape.monitor.app import MonitorApp
from papertape.monitor.source import RunFolder
from papertape.monitor.widgets import ScrubBar

from .conftest import ROOT

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

SCRIPT = """
import sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from monitor.conftest import quick_config
from papertape.engine.session import run_session
config = quick_config(Path({journals!r}), start="2012-01-01")
data = config.canonical()
data["strategies"].append({{"name": "slow_hold", "id": "slow", "params": {{"sleep_ms": 4.0}}}})
data["plugins"]["strategy_dirs"] = [{strategies!r}]
from papertape.engine.config import parse_config
run_session(parse_config(data, config.base_dir))
"""


async def test_monitor_follows_a_session_running_in_another_process(tmp_path: Path) -> None:
    journals = tmp_path / "journals"
    script = SCRIPT.format(
        tests=str(ROOT / "tests"),
        journals=str(journals),
        strategies=str(Path(__file__).parent / "data" / "slow_strategies"),
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    try:
        run_dir = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and run_dir is None:
            found = [p for p in journals.glob("*") if (p / "events.jsonl").exists()]
            if found and is_live(found[0]):
                run_dir = found[0]
            time.sleep(0.05)
        assert run_dir is not None, "the session never started writing"
        source = RunFolder(run_dir, poll=0.02)
        assert source.followed  # attached while the other process writes
        # A plain `papertape run` does not read control.json: this monitor can only watch.
        assert not source.controllable
        app = MonitorApp(source, refresh_s=0.05)
        async with app.run_test(size=(140, 45)) as pilot:
            await pilot.pause(0.1)
            assert "read-only" in str(app.screen.query_one(ScrubBar).render())
            await pilot.press("space")
            assert not (run_dir / "control.json").exists()  # nothing asked of the engine
            # space paused the *view* if events had arrived (CI was fast enough to: the view
            # then stayed on seq 5 and the test failed); back to following the live edge
            await pilot.press("end")
            assert app.cursor is None
            for _ in range(600):
                await pilot.pause(0.05)
                if app.state().finished:
                    break
            state = app.state()
        assert proc.wait(timeout=60) == 0
        recorded = list(read_journal(run_dir))
        assert state.finished and state.seq == recorded[-1]["seq"]
        assert len(state.journal) == len(recorded)  # nothing lost, nothing twice
        for sid, summary in recorded[-1]["summary"].items():
            assert state.traders[sid].equity == pytest.approx(summary["final_equity"])
        assert "slow" in state.traders
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
