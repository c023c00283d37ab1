"""``papertape run LIVE_CONFIG --tui``: a live session in a child process, feed health shown.

The feed is the local Kraken v2 replay server the live tests use (127.0.0.1, an ephemeral
port, in this test's event loop); it drops the connection every few hundred messages so the
session reconnects.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from papertape.engine.config import parse_config
from papertape.engine.journal import read_journal
from papertape.engine.telemetry_file import TELEMETRY_NAME
from papertape.monitor.app import MonitorApp
from papertape.monitor.child import ChildSession
from papertape.monitor.widgets import MarketPanel
from tests.engine.live.conftest import alt_tape, live_config, serving

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def test_a_live_session_runs_under_the_monitor_with_its_feed_health(tmp_path: Path) -> None:
    async with serving(alt_tape(bars=300), drop_every=400) as server:
        raw = live_config(server.url).canonical()
        raw["journal"] = {"enabled": True, "dir": str(tmp_path / "journals")}
        session = ChildSession(parse_config(raw), poll=0.02)
        try:
            run_dir = session.start(timeout=60)
            assert not session.controllable  # a live feed cannot be paused
            app = MonitorApp(session, refresh_s=0.05)
            async with app.run_test(size=(140, 45)) as pilot:
                for _ in range(1200):
                    await pilot.pause(0.05)
                    if app.state().finished and not session.running:
                        break
                await pilot.pause(0.2)
                state = app.state()
                panel = str(app.screen.query_one(MarketPanel).render())
        finally:
            session.close()  # no follower thread outlives the test
            session.stop()
    session.raise_failure()
    assert session.result() is not None
    recorded = list(read_journal(run_dir))
    assert state.mode == "live" and state.finished and len(state.journal) == len(recorded)
    # Reconnects: the journal's feed events and the telemetry's feed counters agree.
    connects = sum(1 for ev in recorded if ev["kind"] == "feed_connected")
    assert connects >= 2 and state.feed.connections == connects
    lines = [orjson.loads(line) for line in (run_dir / TELEMETRY_NAME).read_bytes().splitlines()]
    assert lines and all(line["lag_ns"] is not None for line in lines)
    assert max(line["feed"]["connections"] for line in lines) >= 2
    assert state.feed.lag_ns is not None
    assert f"reconnects {connects - 1}" in panel and "lag" in panel
    session.cleanup()


async def test_quitting_a_live_session_ends_it_with_its_results(tmp_path: Path) -> None:
    async with serving(alt_tape(bars=300), speed=120.0) as server:  # two bars a second
        raw = live_config(server.url).canonical()
        raw["journal"] = {"enabled": True, "dir": str(tmp_path / "journals")}
        session = ChildSession(parse_config(raw), poll=0.02)
        try:
            run_dir = session.start(timeout=60)
            app = MonitorApp(session, refresh_s=0.05)
            async with app.run_test(size=(140, 45)) as pilot:
                for _ in range(200):
                    await pilot.pause(0.05)
                    if app.state().feed.connected:
                        break
                await pilot.press("q")
            session.stop()
        finally:
            session.close()  # no follower thread outlives the test
            session.stop()
    session.raise_failure()  # a live session stopped by SIGINT is not an error
    result = session.result()
    assert result is not None and not server.finished.is_set()  # stopped long before the end
    assert list(read_journal(run_dir))[-1]["kind"] == "run_finished"
    session.cleanup()
