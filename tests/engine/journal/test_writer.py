"""The embedded store: group commit per tick, index, manifest, locking, determinism."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pluggy
import pytest

from papertape.engine import hookspecs
from papertape.engine.errors import JournalError
from papertape.engine.events import Event, OrderFilled, SignalEmitted
from papertape.engine.execution.orders import Signal
from papertape.engine.feeds.base import BarSeries
from papertape.engine.journal import JournalIndex, JournalStore, fold, read_journal
from papertape.engine.journal.jsonl import complete_size, encode_event
from papertape.engine.loop import Engine, SlotSpec
from papertape.engine.session import data_hash, load_series, papertape_version, run_session
from papertape.engine.strategy import Strategy
from papertape.plugins.sizers import FixedQuantity

KEEP_INDEX = "index = true"  # the writer keeps the index current (replays leave it to readers)

DAY = 86_400 * 10**9


def _signal(i: int, sid: str = "s") -> SignalEmitted:
    return SignalEmitted(i * DAY, sid, "X", "long", "market", None, None, None, None, f"n{i}")


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines()


class Spy:
    """Records every event and every tick end (one ``papertape_events`` call per tick)."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.tick_ends: list[int] = []  # events seen at each tick end

    @hookspecs.hookimpl
    def papertape_events(self, events: Sequence[Event]) -> None:
        self.events.extend(events)
        self.tick_ends.append(len(self.events))


class DiskWatcher(Strategy):
    """Trades every few bars; at each bar notes what is on disk versus what was emitted."""

    name = "disk_watcher"

    def __init__(self, log: Path, spy: Spy) -> None:
        super().__init__()
        self.log = log
        self.spy = spy
        self.i = -1
        self.seen: list[tuple[int, int]] = []  # (lines on disk, events of earlier bars)

    def on_bar(self, snap: Any, portfolio: Any) -> Signal | None:
        self.i += 1
        on_disk = complete_size(self.log) and self.log.read_bytes().count(b"\n")
        earlier = sum(
            1
            for e in self.spy.events
            if e.time < snap.time or e.kind in ("run_started", "data_rejected")
        )
        self.seen.append((on_disk, earlier))
        if self.i % 6 == 0:
            return Signal.long("up", stop_loss=snap.price * 0.9)
        if self.i % 6 == 3:
            return Signal.flat("down")
        return None


def _series(n: int) -> BarSeries:
    rng = np.random.default_rng(1)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    opn = np.concatenate([[100.0], close[:-1]])
    t = np.arange(n, dtype=np.int64) * DAY
    return BarSeries.from_arrays(
        "X", t, opn, np.maximum(opn, close) * 1.01, np.minimum(opn, close) * 0.99, close, np.ones(n)
    )


def _engine(
    run_dir: Path, strategy: Callable[[Path, Spy], Strategy], n: int = 120, **store_kw: Any
) -> tuple[Engine, JournalStore, Spy, Strategy]:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    store = JournalStore(run_dir, **store_kw)
    spy = Spy()
    pm.register(store)
    pm.register(spy)
    strat = strategy(store.path, spy)
    engine = Engine([_series(n)], [SlotSpec("s", strat, FixedQuantity(qty=1.0))], pm)
    return engine, store, spy, strat


def test_a_tick_is_written_at_its_end_in_one_commit(tmp_path: Path) -> None:
    store = JournalStore(tmp_path / "run")
    for i in range(3):
        store.add(_signal(i))
    assert store.path.read_bytes() == b""  # nothing before the tick ends
    store.commit()
    assert _lines(store.path) == [encode_event(_signal(i), i) for i in range(3)]
    store.papertape_events([_signal(3), _signal(4)])
    assert len(_lines(store.path)) == 5  # the hook writes and commits a whole tick
    store.add(_signal(5))
    store.close()
    assert len(_lines(store.path)) == 6  # close commits the rest


def test_every_event_is_on_disk_before_the_engine_acts_on_the_next_bar(tmp_path: Path) -> None:
    engine, _, spy, strat = _engine(tmp_path / "run", DiskWatcher)
    engine.run_sync()
    seen = strat.seen  # type: ignore[attr-defined]
    assert len(seen) == 120
    late = [(i, disk, want) for i, (disk, want) in enumerate(seen) if disk != want]
    assert late == [], "bars that started before earlier events were journaled"
    assert sum(1 for e in spy.events if e.kind == "fill") > 20


def test_only_ticks_with_events_commit(tmp_path: Path) -> None:
    engine, _, spy, _ = _engine(tmp_path / "run", DiskWatcher)
    engine.run_sync()
    ends = spy.tick_ends
    assert 20 < len(ends) < 120  # quiet bars made no commit
    assert all(b > a for a, b in zip([0, *ends], ends, strict=False))  # never an empty one


def test_fsync_durability_writes_the_same_log(tmp_path: Path) -> None:
    a, store_a, _, _ = _engine(tmp_path / "a", DiskWatcher, n=60)
    a.run_sync()
    b, store_b, _, _ = _engine(tmp_path / "b", DiskWatcher, n=60, durability="fsync")
    b.run_sync()
    assert store_a.path.read_bytes() == store_b.path.read_bytes()
    assert json.loads((tmp_path / "b" / "manifest.json").read_text())["durability"] == "fsync"


def test_same_config_gives_a_byte_identical_log_and_index(
    run_files: Callable[..., Any], tmp_path: Path
) -> None:
    files = run_files(bars=250, journal=KEEP_INDEX)
    run_session(files.load())
    first = files.log().read_bytes()
    run_session(files.load())  # replaces the folder's journal
    assert files.log().read_bytes() == first
    assert b"wall" not in first and b"created" not in first
    index = JournalIndex(files.run_dir() / "index.sqlite")
    try:
        assert index.count() == first.count(b"\n")
    finally:
        index.close()


def test_the_run_folder_holds_config_and_manifest(run_files: Callable[..., Any]) -> None:
    files = run_files(bars=100)
    config = files.load()
    result = run_session(config)
    folder = files.run_dir()
    recorded = json.loads((folder / "config.json").read_text())
    # the config as written, plus the identity facts the session filled in from the data
    assert recorded["run"].pop("data_hash") == data_hash(load_series(config))
    assert recorded["run"].pop("version") == papertape_version()
    expected = config.canonical()
    del expected["run"]["data_hash"], expected["run"]["version"]
    assert recorded == expected
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["run_id"] == result.run_id == folder.name != config.run_id
    assert manifest["status"] == "finished"
    assert manifest["durability"] == "batch"  # auto: batch for replays, fsync live
    assert manifest["base_dir"] == str(Path(config.base_dir).resolve())


def test_a_store_closed_before_the_run_finished_is_marked_stopped(tmp_path: Path) -> None:
    store = JournalStore(tmp_path / "run")
    store.add(_signal(0))
    store.close()
    assert json.loads((tmp_path / "run" / "manifest.json").read_text())["status"] == "stopped"
    with pytest.raises(JournalError, match="closed"):
        store.add(_signal(1))


def test_a_second_writer_on_the_same_folder_is_refused(tmp_path: Path) -> None:
    store = JournalStore(tmp_path / "run")
    try:
        with pytest.raises(JournalError, match="another process"):
            JournalStore(tmp_path / "run")
    finally:
        store.close()
    JournalStore(tmp_path / "run").close()  # free again once closed


def test_a_full_disk_stops_the_run_with_a_journal_error(tmp_path: Path) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "events.jsonl").symlink_to("/dev/full")
    store = JournalStore(folder, index=False)
    with pytest.raises(JournalError, match="cannot write journal"):
        store.papertape_events([_signal(0)])
    store.close()


def test_index_finds_events_by_kind_and_strategy(run_files: Callable[..., Any]) -> None:
    files = run_files(bars=300, journal=KEEP_INDEX)
    run_session(files.load())
    records = list(read_journal(files.run_dir()))
    index = JournalIndex(files.run_dir() / "index.sqlite")
    try:
        hits = index.find(kind="fill", strategy="a")
        assert [seq for seq, _, _ in hits] == [
            r["seq"] for r in records if r["kind"] == "fill" and r["strategy"] == "a"
        ]
        data = files.log().read_bytes()
        for seq, offset, length in hits:
            assert json.loads(data[offset : offset + length])["seq"] == seq
        assert index.counts()[("trade", "b")] == sum(
            1 for r in records if r["kind"] == "trade" and r["strategy"] == "b"
        )
        last = index.find(limit=2, last=True)
        assert [s for s, _, _ in last] == [len(records) - 2, len(records) - 1]
    finally:
        index.close()


def test_index_behind_the_log_catches_up_when_reopened(run_files: Callable[..., Any]) -> None:
    files = run_files(bars=200, journal=KEEP_INDEX)
    run_session(files.load())
    folder = files.run_dir()
    total = files.log().read_bytes().count(b"\n")
    index = JournalIndex(folder / "index.sqlite")
    index._db.execute("DELETE FROM events WHERE seq >= 10")  # a crash before the last inserts
    assert index.count() == 10
    assert index.catch_up(files.log(), complete_size(files.log())) == total - 10
    assert index.count() == total
    index.close()


def test_fold_of_the_journal_matches_the_engine_books(run_files: Callable[..., Any]) -> None:
    files = run_files(bars=400)
    result = run_session(files.load())
    state = fold(read_journal(files.run_dir()), {"a": 10_000.0, "b": 10_000.0})
    assert state.finished
    for sid, res in result.strategies.items():
        book = state.strategies[sid]
        assert book.trades == len(res.trades) > 0
        assert book.realised_pnl == pytest.approx(sum(t.pnl for t in res.trades))
        summary = state.summary[sid]
        assert book.cash == summary["cash"]
        assert book.positions == summary["positions"]


def test_events_with_a_fill_heavy_mix_round_trip(tmp_path: Path) -> None:
    store = JournalStore(tmp_path / "run")
    events: list[Event] = []
    for i in range(1000):
        events.append(
            OrderFilled(
                i,
                "s",
                i,
                "X",
                1,
                0.1 * i,
                100.0 + i,
                0.01,
                0.0,
                "taker",
                "entry",
                5_000.0 - i,
                0.1 * i,
            )
        )
        store.add(events[-1])
        if i % 7 == 0:
            store.commit()
    store.close()
    back = list(read_journal(tmp_path / "run"))
    assert [r["seq"] for r in back] == list(range(1000))
    assert [r["price"] for r in back] == [e.price for e in events]  # type: ignore[attr-defined]


def _secondary(path: Path) -> set[str]:
    db = sqlite3.connect(path)
    try:
        rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
    finally:
        db.close()
    return {name for (name,) in rows if name.startswith("events_by_")}


def test_secondary_indexes_are_built_by_the_first_query_not_the_run(
    run_files: Callable[..., Any],
) -> None:
    # Arrange: a finished run (the writer only folds the WAL in at the end)
    files = run_files(bars=300, journal=KEEP_INDEX)
    run_session(files.load())
    path = files.run_dir() / "index.sqlite"
    assert _secondary(path) == set()

    # Act: the first reader's query
    index = JournalIndex(path)
    try:
        fills = index.find(kind="fill")
        plan = index._db.execute(
            "EXPLAIN QUERY PLAN SELECT seq FROM events WHERE kind = 'fill' ORDER BY seq"
        ).fetchall()
    finally:
        index.close()

    # Assert
    assert fills
    assert _secondary(path) == {"events_by_kind", "events_by_strategy", "events_by_time"}
    assert any("events_by_kind" in str(row) for row in plan)
