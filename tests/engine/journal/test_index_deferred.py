"""A replay leaves its SQLite index to its first reader; live sessions keep it current."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from papertape.engine.cli.main import main
from papertape.engine.config import parse_config
from papertape.engine.journal import JournalIndex, JournalStore, read_journal
from papertape.engine.journal.attach import index_of
from papertape.engine.session import run_session


def _config(mode: str, index: object) -> Any:
    raw: dict[str, Any] = {
        "run": {"name": "x", "mode": mode},
        "data": [{"path": "x.csv", "symbol": "X"}],
        "strategies": [{"name": "sma_cross"}],
        "journal": {} if index is None else {"index": index},
    }
    if mode == "live":
        raw["live"] = {"symbols": ["X"]}
        raw["data"] = []
    return parse_config(raw)


@pytest.mark.parametrize(
    ("mode", "index", "kept"),
    [
        ("backtest", None, False),
        ("backtest", "auto", False),
        ("backtest", True, True),
        ("live", None, True),
        ("live", False, False),
    ],
)
def test_auto_keeps_the_index_while_running_only_for_live_sessions(
    mode: str, index: object, kept: bool
) -> None:
    assert index_of(_config(mode, index)) is kept


def test_a_backtest_leaves_the_index_to_its_first_reader(
    run_files: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    # Arrange: a backtest with the default [journal]
    files = run_files(bars=300)
    run_session(files.load())
    folder = files.run_dir()
    manifest = json.loads((folder / "manifest.json").read_text())
    records = list(read_journal(folder))

    # Act: the first reader
    shown = main(["journal", "show", str(folder), "--kind", "fill", "--tail", "2", "--json"])
    out = json.loads(capsys.readouterr().out)

    # Assert: the run wrote no index; the reader built all of it from the log
    assert manifest["index_live"] is False
    assert shown == 0
    fills = [r["seq"] for r in records if r["kind"] == "fill"]
    assert [e["seq"] for e in out["events_shown"]] == fills[-2:]
    index = JournalIndex(folder / "index.sqlite")
    try:
        assert index.count() == len(records)
    finally:
        index.close()


def test_the_run_itself_writes_no_index_file(run_files: Callable[..., Any]) -> None:
    files = run_files(bars=200)
    run_session(files.load())
    assert not (files.run_dir() / "index.sqlite").exists()
    kept = run_files(bars=200, name="kept", journal="index = true")
    run_session(kept.load())
    assert (kept.run_dir() / "index.sqlite").exists()


def test_readers_index_a_running_folder_whose_writer_keeps_none(
    run_files: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    # Arrange: a finished backtest reopened by a writer that keeps no index (it holds the lock)
    files = run_files(bars=150)
    run_session(files.load())
    folder = files.run_dir()
    total = files.log().read_bytes().count(b"\n")
    store = JournalStore(folder, resume=True, index=False)
    try:
        # Act
        indexed = main(["journal", "index", str(folder)])
        shown = main(["journal", "show", str(folder), "--tail", "1", "--json"])
    finally:
        store.close()

    # Assert: the readers were not refused, and the index covers the log
    assert indexed == 0 and shown == 0
    out = capsys.readouterr().out
    assert f"{total:,} events indexed" in out
