"""``papertape journal show|index`` and the journal packages' public API."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from typing import Any

import pytest

from papertape.engine.cli.main import main
from papertape.engine.journal import JournalIndex, JournalStore, fold, is_live, read_journal
from papertape.engine.session import run_session

KEEP_INDEX = "index = true"  # the writer keeps the index current (replays leave it to readers)


def test_show_prints_the_books_and_the_last_events(
    run_files: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    files = run_files(bars=300)
    result = run_session(files.load())
    assert (
        main(["journal", "show", str(files.run_dir()), "--kind", "fill", "--tail", "3", "--json"])
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "finished"
    assert out["finished"] is True
    assert [e["kind"] for e in out["events_shown"]] == ["fill"] * 3
    fills = [r for r in read_journal(files.run_dir()) if r["kind"] == "fill"]
    assert [e["seq"] for e in out["events_shown"]] == [r["seq"] for r in fills[-3:]]
    for sid, res in result.strategies.items():
        assert out["strategies"][sid]["trades"] == len(res.trades)
    assert main(["journal", "show", str(files.run_dir())]) == 0
    text = capsys.readouterr().out
    assert "finished" in text and "run_finished" in text


def test_show_reads_a_run_interrupted_mid_line(
    run_files: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    files = run_files(bars=200)
    run_session(files.load())
    data = files.log().read_bytes()
    files.log().write_bytes(data[: len(data) // 2 + 3])  # torn last line
    expected = fold(read_journal(files.run_dir()))
    assert main(["journal", "show", str(files.run_dir()), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["events"] == expected.events < data.count(b"\n")
    assert out["finished"] is False


def test_status_tells_live_interrupted_and_finished_runs_apart(
    run_files: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    files = run_files(bars=100, journal=KEEP_INDEX)
    run_session(files.load())
    folder = files.run_dir()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == "finished"

    def status() -> str:
        assert main(["journal", "show", str(folder), "--json"]) == 0
        return str(json.loads(capsys.readouterr().out)["status"])

    (folder / "manifest.json").write_text(json.dumps({**manifest, "status": "running"}))
    assert status() == "interrupted"  # "running", but no process holds the folder
    store = JournalStore(folder, resume=True)
    try:
        assert is_live(folder)
        assert status() == "running"
        assert main(["journal", "index", str(folder)]) == 2  # the writer owns the index
    finally:
        store.close()
    assert not is_live(folder)


def test_index_rebuild_restores_a_deleted_index(
    run_files: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    files = run_files(bars=150, journal=KEEP_INDEX)
    run_session(files.load())
    (files.run_dir() / "index.sqlite").unlink()
    assert main(["journal", "index", str(files.run_dir()), "--rebuild"]) == 0
    total = files.log().read_bytes().count(b"\n")
    assert f"{total:,} events indexed" in capsys.readouterr().out
    index = JournalIndex(files.run_dir() / "index.sqlite")
    try:
        assert index.count() == total
    finally:
        index.close()


def test_a_folder_without_a_log_is_an_error(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["journal", "show", str(tmp_path)]) == 2
    assert "not a run folder" in capsys.readouterr().err


@pytest.mark.parametrize(
    "name",
    [
        "papertape.engine.journal",
        "papertape.engine.journal.replay",
        "papertape.engine.journal.postgres",
    ],
)
def test_packages_export_what_they_list(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__all__
    assert len(set(module.__all__)) == len(module.__all__)
    for member in module.__all__:
        assert hasattr(module, member), f"{name}.__all__ names missing {member}"


def _shift_index(path: Any, by: int) -> None:
    import sqlite3

    db = sqlite3.connect(path)
    db.execute("UPDATE events SET offset = offset + ?", (by,))
    db.commit()
    db.close()


@pytest.mark.parametrize("damage", ["offsets", "garbage"])
def test_show_on_a_damaged_index_names_it_and_says_how_to_rebuild(
    run_files: Callable[..., Any], capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    files = run_files(bars=200, journal=KEEP_INDEX)
    run_session(files.load())
    index = files.run_dir() / "index.sqlite"
    if damage == "offsets":
        _shift_index(index, 37)
    else:
        for name in ("index.sqlite-wal", "index.sqlite-shm"):
            (files.run_dir() / name).unlink(missing_ok=True)
        index.write_bytes(b"this is not a database" * 100)

    assert main(["journal", "show", str(files.run_dir()), "--tail", "5"]) == 2

    err = " ".join(capsys.readouterr().err.split())
    assert str(index) in err.replace(" ", "") or "index.sqlite" in err
    assert f"papertape journal index {files.run_dir()} --rebuild" in err.replace("\n", "")
    assert main(["journal", "index", str(files.run_dir()), "--rebuild"]) == 0
    capsys.readouterr()
    assert main(["journal", "show", str(files.run_dir()), "--tail", "5"]) == 0
