"""Crash safety end to end: kill -9 a real run, resume it, get the uninterrupted journal."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from papertape import engine
from papertape.engine.cli.main import main
from papertape.engine.errors import JournalError
from papertape.engine.journal import is_live
from papertape.engine.journal.replay import resume_session
from papertape.engine.session import SessionResult, run_session

RunFiles = Any


def _env(**extra: str) -> dict[str, str]:
    """Environment for a child process that imports this same checkout of papertape."""
    root = str(Path(engine.__file__).resolve().parents[1])
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": root + (os.pathsep + path if path else ""), **extra}


def _reference(files: RunFiles) -> tuple[bytes, SessionResult]:
    """An uninterrupted run; its folder is removed so the next run starts clean."""
    result = run_session(files.load())
    data = files.log().read_bytes()
    shutil.rmtree(files.run_dir())
    return data, result


def _same_results(a: SessionResult, b: SessionResult) -> None:
    assert a.strategies.keys() == b.strategies.keys()
    for sid in a.strategies:
        assert a.strategies[sid].trades == b.strategies[sid].trades
        np.testing.assert_array_equal(a.strategies[sid].equity, b.strategies[sid].equity)


def test_kill_9_mid_run_then_resume_gives_the_uninterrupted_journal(
    run_files: Callable[..., RunFiles],
) -> None:
    files = run_files(bars=1500)
    reference, ref_result = _reference(files)
    total = reference.count(b"\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "papertape.engine.cli.main", "run", str(files.config), "--json"],
        cwd=files.root,
        env=_env(PAPERTAPE_TEST_SLEEP="0.003"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    log = files.log()
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if log.exists() and log.read_bytes().count(b"\n") >= total // 3:
                break
            time.sleep(0.01)
        assert proc.poll() is None, f"the run ended before it could be killed: {proc.stderr}"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=30)
        if proc.stderr is not None:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL

    partial = log.read_bytes()
    whole = partial[: partial.rfind(b"\n") + 1]
    assert reference.startswith(whole), "a journaled event was lost or garbled by the kill"
    assert total // 3 <= whole.count(b"\n") < total
    assert b'"kind":"run_finished"' not in partial
    assert json.loads((files.run_dir() / "manifest.json").read_text())["status"] == "running"
    assert not is_live(files.run_dir())  # the killed process's lock died with it

    resumed = subprocess.run(
        [
            sys.executable,
            "-m",
            "papertape.engine.cli.main",
            "run",
            "--resume",
            str(files.run_dir()),
            "--json",
        ],
        cwd=files.root,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert log.read_bytes() == reference
    out = json.loads(resumed.stdout)
    for sid, res in ref_result.strategies.items():
        assert out["strategies"][sid]["trades"] == len(res.trades)
        assert out["strategies"][sid]["final_equity"] == pytest.approx(res.metrics.final_equity)
    manifest = json.loads((files.run_dir() / "manifest.json").read_text())
    assert manifest["status"] == "finished"
    assert len(manifest["resumes"]) == 1


@pytest.mark.parametrize("fraction", [0.0, 0.2, 0.5, 0.93])
def test_resume_from_any_torn_point_reproduces_the_run(
    run_files: Callable[..., RunFiles], fraction: float
) -> None:
    files = run_files(bars=400)
    reference, ref_result = _reference(files)
    run_session(files.load())
    cut = int(len(reference) * fraction) + 5  # lands inside a line
    files.log().write_bytes(reference[:cut])
    whole = reference[:cut].rfind(b"\n") + 1

    res = resume_session(files.run_dir())

    assert files.log().read_bytes() == reference
    assert res.verified == reference[:whole].count(b"\n")
    assert res.verified + res.appended == reference.count(b"\n")
    assert res.torn_bytes == cut - whole
    _same_results(res.session, ref_result)


def test_a_damaged_tail_is_skipped_and_rewritten(run_files: Callable[..., RunFiles]) -> None:
    files = run_files(bars=300)
    reference, _ = _reference(files)
    run_session(files.load())
    lines = reference.splitlines(keepends=True)
    # What a power loss can leave without fsync: a block of zeros where the tail was.
    files.log().write_bytes(b"".join(lines[:40]) + b"\0" * 700 + b"\n" + lines[41])

    res = resume_session(files.run_dir())

    assert files.log().read_bytes() == reference
    assert res.verified == 41  # lines 0-39 and line 41 after the zeros
    assert res.damaged == (41,)


def test_a_finished_run_resumes_to_the_same_journal(run_files: Callable[..., RunFiles]) -> None:
    files = run_files(bars=200)
    run_session(files.load())
    before = files.log().read_bytes()
    res = resume_session(files.run_dir())
    assert res.appended == 0
    assert res.verified == before.count(b"\n")
    assert files.log().read_bytes() == before


def test_changed_data_refuses_to_resume_and_leaves_the_journal(
    run_files: Callable[..., RunFiles],
) -> None:
    files = run_files(bars=300)
    run_session(files.load())
    folder = files.run_dir()  # the run id includes the data hash: find the folder first
    data = files.log().read_bytes()
    files.log().write_bytes(data[: len(data) // 2 + 1])
    kept = files.log().read_bytes()  # torn last line included: nothing is changed
    rows = files.data.read_text().splitlines()
    rows[-1] = rows[-1].replace(",100", ",101", 1) if ",100" in rows[-1] else rows[-1] + "1"
    files.data.write_text("\n".join(rows) + "\n")

    with pytest.raises(JournalError, match="differs from the journal"):
        resume_session(folder)
    assert (folder / "events.jsonl").read_bytes() == kept


def test_a_journal_longer_than_the_rerun_is_refused(run_files: Callable[..., RunFiles]) -> None:
    files = run_files(bars=150)
    run_session(files.load())
    total = files.log().read_bytes().count(b"\n")
    with files.log().open("ab") as fh:
        fh.write(b'{"kind":"signal","seq":%d,"time":0}\n' % total)
    with pytest.raises(JournalError, match="holds more"):
        resume_session(files.run_dir())


def test_resume_needs_a_run_folder(tmp_path: Path) -> None:
    with pytest.raises(JournalError, match="no run folder"):
        resume_session(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(JournalError, match=r"manifest\.json"):
        resume_session(tmp_path / "empty")


def test_cli_refuses_a_config_and_resume_together(
    run_files: Callable[..., RunFiles], capsys: pytest.CaptureFixture[str]
) -> None:
    files = run_files(bars=50)
    assert main(["run", str(files.config), "--resume", str(files.root)]) == 2
    assert "not both" in capsys.readouterr().err
    assert main(["run"]) == 2


def test_a_live_session_is_not_resumed_by_reexecution(tmp_path: Path) -> None:
    from papertape.engine.config import parse_config
    from papertape.engine.journal import JournalStore

    config = parse_config(
        {
            "run": {"mode": "live", "name": "lv"},
            "live": {"symbols": ["BTC/USD"]},
            "strategies": [{"name": "sma_cross"}],
        }
    )
    JournalStore(tmp_path / config.run_id, config=config.canonical()).close()
    with pytest.raises(JournalError, match="live session"):
        resume_session(tmp_path / config.run_id)


def _change_code(files: RunFiles) -> None:
    """Edit the drop-in strategy so that its later signals differ (a "code change")."""
    path = files.root / "strats" / "slow_cross.py"
    path.write_text(path.read_text().replace("px * 1.05", "px * 1.07"))


def test_a_damaged_middle_line_is_skipped_and_the_rest_still_verified(
    run_files: Callable[..., RunFiles],
) -> None:
    files = run_files(bars=400)
    reference, _ = _reference(files)
    run_session(files.load())
    lines = reference.splitlines(keepends=True)
    middle = len(lines) // 4
    damaged = b"".join(lines[:middle]) + b"\0" * 90 + b"\n" + b"".join(lines[middle + 1 :])
    files.log().write_bytes(damaged)

    res = resume_session(files.run_dir())

    assert files.log().read_bytes() == reference
    assert res.verified == len(lines) - 1  # every intact line, before and after the damage
    assert res.damaged == (middle + 1,)
    assert res.rewritten == 1
    resume = json.loads((files.run_dir() / "manifest.json").read_text())["resumes"][-1]
    assert resume["damaged_lines"] == [middle + 1]
    assert resume["damaged_bytes"] == 91
    assert resume["torn_bytes"] == 0


def test_a_damaged_middle_line_and_a_code_change_refuse_and_change_nothing(
    run_files: Callable[..., RunFiles],
) -> None:
    # The scenario: the damaged line used to be a cut point, so the changed code was
    # spliced in after it and the original later events were destroyed.
    files = run_files(bars=400)
    run_session(files.load())
    lines = files.log().read_bytes().splitlines(keepends=True)
    middle = len(lines) // 4
    damaged = b"".join(lines[:middle]) + b'{"kind":"sig' + b"\n" + b"".join(lines[middle + 1 :])
    damaged += b'{"kind":"fill","se'  # and a torn last line
    files.log().write_bytes(damaged)
    manifest = (files.run_dir() / "manifest.json").read_bytes()
    _change_code(files)

    with pytest.raises(JournalError, match="differs from the journal"):
        resume_session(files.run_dir())

    assert files.log().read_bytes() == damaged
    assert (files.run_dir() / "manifest.json").read_bytes() == manifest
    assert not list(files.run_dir().glob(".events*"))


def test_a_torn_tail_is_reported_in_the_manifest(run_files: Callable[..., RunFiles]) -> None:
    files = run_files(bars=200)
    reference, _ = _reference(files)
    run_session(files.load())
    files.log().write_bytes(reference[: len(reference) // 2] + b'{"kind":"ma')
    resume_session(files.run_dir())
    resume = json.loads((files.run_dir() / "manifest.json").read_text())["resumes"][-1]
    cut = len(reference) // 2 - reference[: len(reference) // 2].rfind(b"\n") - 1
    assert resume["torn_bytes"] == cut + len(b'{"kind":"ma')
    assert files.log().read_bytes() == reference
