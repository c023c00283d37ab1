"""``durability = "batch"``: replays write whole ticks together; the log is the same log."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from papertape.engine.config import parse_config
from papertape.engine.events import SignalEmitted
from papertape.engine.journal import JournalIndex, JournalStore, durability_of, read_journal
from papertape.engine.journal import writer as writer_module
from papertape.engine.session import run_session

DAY = 86_400 * 10**9


def _tick(i: int, n: int = 2, reason: str = "") -> list[SignalEmitted]:
    return [
        SignalEmitted(i * DAY, "s", "X", "long", "market", None, None, None, None, reason, "X")
        for _ in range(n)
    ]


@pytest.mark.parametrize(("mode", "chosen"), [("backtest", "batch"), ("live", "fsync")])
def test_auto_batches_replays_and_fsyncs_live_sessions(mode: str, chosen: str) -> None:
    raw: dict[str, Any] = {
        "run": {"name": "x", "mode": mode},
        "data": [] if mode == "live" else [{"path": "x.csv", "symbol": "X"}],
        "strategies": [{"name": "sma_cross"}],
    }
    if mode == "live":
        raw["live"] = {"symbols": ["X"]}
    assert durability_of(parse_config(raw)) == chosen


def test_a_batched_replay_writes_the_log_a_per_tick_one_writes(
    run_files: Callable[..., Any],
) -> None:
    # Arrange
    files = run_files(bars=400)
    run_session(files.load())  # auto: batch
    batched = files.log().read_bytes()
    text = files.config.read_text()
    files.config.write_text(text.replace("[journal]\n", '[journal]\ndurability = "process"\n'))

    # Act
    run_session(files.load())  # the same run id: durability is not part of it

    # Assert
    assert files.log().read_bytes() == batched
    assert '"durability": "process"' in (files.run_dir() / "manifest.json").read_text()
    assert batched.count(b"\n") > 100


def test_ticks_are_held_until_the_size_bound_and_written_whole(tmp_path: Path) -> None:
    # Arrange
    store = JournalStore(tmp_path / "run", durability="batch")
    reason = "x" * 1000  # about 1.2 KiB per event

    # Act: small ticks first, then enough to pass the 64 KiB bound
    store.papertape_events(_tick(0))
    held = store.path.read_bytes()
    written_before = store.events_written
    i = 1
    while not store.path.read_bytes():
        store.papertape_events(_tick(i, 2, reason))
        i += 1

    # Assert: nothing of the first tick reached the file alone; then whole ticks did
    assert held == b"" and written_before == 0
    data = store.path.read_bytes()
    assert data.endswith(b"\n") and len(data) >= writer_module.BATCH_BYTES
    assert data.count(b"\n") == 2 * i == store.events_written
    store.close()
    assert [r["seq"] for r in read_journal(tmp_path / "run")] == list(range(2 * i))


def test_ticks_are_held_at_most_the_time_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer_module, "BATCH_SECONDS", 0.0)
    store = JournalStore(tmp_path / "run", durability="batch")
    store.papertape_events(_tick(0))
    assert store.path.read_bytes().count(b"\n") == 2  # the bound passed: written at once
    store.close()


def test_close_writes_held_ticks_and_the_index_gets_them(tmp_path: Path) -> None:
    # Arrange
    store = JournalStore(tmp_path / "run", durability="batch", index=True)
    for i in range(5):
        store.papertape_events(_tick(i))
    assert store.path.read_bytes() == b""

    # Act
    store.close()

    # Assert
    assert store.path.read_bytes().count(b"\n") == 10
    index = JournalIndex(tmp_path / "run" / "index.sqlite")
    try:
        assert index.count() == 10
        assert [s for s, _, _ in index.find(limit=1, last=True)] == [9]
    finally:
        index.close()


def test_events_added_one_by_one_keep_their_place_after_held_ticks(tmp_path: Path) -> None:
    store = JournalStore(tmp_path / "run", durability="batch")
    store.papertape_events(_tick(0, 1, "held"))
    store.add(_tick(1, 1, "added")[0])
    store.papertape_events(_tick(2, 1, "next"))
    store.close()
    assert [(r["seq"], r["reason"]) for r in read_journal(tmp_path / "run")] == [
        (0, "held"),
        (1, "added"),
        (2, "next"),
    ]
