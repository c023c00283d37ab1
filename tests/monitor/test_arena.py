"""``papertape arena CONFIG --tui``: each window followed in turn, the leaderboard updating."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from papertape.arena import parse_arena_config, read_arena
from papertape.engine.journal import read_journal
from papertape.monitor.app import MonitorApp
from papertape.monitor.arena_session import ArenaSession
from papertape.monitor.metrics import MetricsExporter
from papertape.monitor.widgets import ArenaBoard
from tests.arena.conftest import arena_raw
from tests.monitor.test_metrics import _free_port, value

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

SLOW = Path(__file__).parent / "data" / "slow_strategies"


async def test_the_monitor_follows_every_window_and_the_arena_leaderboard(tmp_path: Path) -> None:
    raw = arena_raw(
        tmp_path / "journals",
        strategies=[
            {"name": "sma_cross", "id": "sma", "params": {"fast": 10, "slow": 40}},
            {"name": "slow_hold", "id": "slow", "params": {"sleep_ms": 4.0}},  # ~1 s a window
        ],
    )
    raw["plugins"]["strategy_dirs"] = [str(SLOW)]
    session = ArenaSession(parse_arena_config(raw, tmp_path), poll=0.02)
    boards: list[int] = []  # rows of the arena board at each frame
    windows: set[Path] = set()
    port = _free_port()  # `papertape arena --tui --metrics-port P`
    exporter = MetricsExporter()
    exporter.serve(port)
    try:
        session.start(timeout=60)
        app = MonitorApp(session, refresh_s=0.05, metrics=exporter)
        async with app.run_test(size=(140, 50)) as pilot:
            for _ in range(1200):
                await pilot.pause(0.05)
                shown = app.screen.query(ArenaBoard)
                boards.append(shown.first().row_count if shown else 0)
                if session.run_dir is not None:
                    windows.add(session.run_dir)
                if not session.running and session.progress.get("done") == 2:
                    await pilot.pause(0.2)
                    break
            board = app.screen.query_one(ArenaBoard)
            shown = board.display
            final = [str(board.get_row_at(i)[1]) for i in range(board.row_count)]
            traders = set(app.state().traders)
        outcome = session.outcome()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
            scraped = r.read().decode()
    finally:
        session.close()  # no follower thread outlives the test
        session.stop()
        session.cleanup()
    assert len(windows) == 2 and session.generation >= 1  # moved to the second window
    assert boards[0] == 0 and boards[-1] > 0  # empty until a window ended, then filled
    doc = read_arena(outcome["arena"])
    rows = doc["summary"]["leaderboards"]["real"]["rows"]
    assert shown and final == [row["trader"] for row in rows]  # the stored leaderboard
    assert {"sma", "slow", "buy_and_hold"} <= traders  # the window's traders side by side
    # the metrics add up both windows: every fill journaled, counted once
    fills = sum(1 for w in windows for rec in read_journal(w) if rec.get("kind") == "fill")
    counted = sum(
        s.value
        for family in text_string_to_metric_families(scraped)
        for s in family.samples
        if s.name == "papertape_fills_total"
    )
    assert counted == fills > 0
    assert (value(scraped, "papertape_steps_total") or 0) > 0


def test_stopping_an_arena_mid_window_ends_it_cleanly_without_a_leaderboard(
    tmp_path: Path,
) -> None:
    raw = arena_raw(
        tmp_path / "journals",
        strategies=[{"name": "slow_hold", "id": "slow", "params": {"sleep_ms": 10.0}}],
    )
    raw["plugins"]["strategy_dirs"] = [str(SLOW)]
    session = ArenaSession(parse_arena_config(raw, tmp_path), poll=0.02)
    try:
        run_dir = session.start(timeout=60)
        session.poll()
        assert session.progress["done"] == 0 and session.progress["planned"] == 2
        session.stop()
        assert session.wait(timeout=1) == 1  # ended, without an arena to report
        outcome = session.outcome()
    finally:
        session.close()
        session.stop()
        session.cleanup()
    assert "interrupted" in outcome
    assert outcome["interrupted"][3] == str(run_dir)  # the window's journal, resumable
    assert not list((tmp_path / "journals").glob("*/arena.json"))


def test_progress_after_each_window_of_a_real_and_blind_arena(tmp_path: Path) -> None:
    """blind = "both" plays every real window first: the blind board waits for its own."""
    import json

    from papertape.arena.runner import run_arena
    from papertape.arena.watch import PROGRESS_FILE, ArenaProgress

    config = parse_arena_config(arena_raw(tmp_path / "journals", blind="both"), tmp_path)
    seen: list[dict[str, object]] = []

    class Recording(ArenaProgress):
        def window_finished(self, so_far: object) -> None:
            super().window_finished(so_far)  # type: ignore[arg-type]
            seen.append(json.loads((self.folder / PROGRESS_FILE).read_text(encoding="utf-8")))

    run_arena(config, windows=1, observer=Recording(tmp_path, 2, "t"))
    boards = [sorted(doc["summary"]["leaderboards"]) for doc in seen]  # type: ignore[index]
    assert boards == [["real"], ["blind", "real"]]
    assert seen[-1]["done"] == 2
