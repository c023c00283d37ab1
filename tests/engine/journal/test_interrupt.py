"""One Ctrl-C stops a replay within a second, leaves a resumable journal and says so."""

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

from papertape import engine
from papertape.engine.journal.replay import resume_session
from papertape.engine.session import run_session

RunFiles = Any


def _env(**extra: str) -> dict[str, str]:
    root = str(Path(engine.__file__).resolve().parents[1])
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": root + (os.pathsep + path if path else ""), **extra}


def test_one_ctrl_c_stops_within_a_second_and_the_run_resumes(
    run_files: Callable[..., RunFiles],
) -> None:
    files = run_files(bars=3000)
    run_session(files.load())
    reference = files.log().read_bytes()
    shutil.rmtree(files.run_dir())
    proc = subprocess.Popen(
        [sys.executable, "-m", "papertape.engine.cli.main", "run", str(files.config)],
        cwd=files.root,
        env=_env(PAPERTAPE_TEST_SLEEP="0.002"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    log = files.log()
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if log.exists() and log.read_bytes().count(b"\n") >= 50:
                break
            time.sleep(0.01)
        assert proc.poll() is None, "the run ended before it could be interrupted"
        os.kill(proc.pid, signal.SIGINT)
        sent = time.monotonic()
        _, err = proc.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert took < 1.0, f"the first Ctrl-C took {took:.2f} s to stop the run"
    assert proc.returncode == 130, err
    assert "stopped cleanly after step" in err
    assert f"papertape run --resume {files.run_dir()}" in err
    assert "Traceback" not in err
    partial = log.read_bytes()
    assert partial.endswith(b"\n") and reference.startswith(partial)
    assert b'"kind":"run_finished"' not in partial
    assert json.loads((files.run_dir() / "manifest.json").read_text())["status"] == "stopped"

    res = resume_session(files.run_dir())

    assert files.log().read_bytes() == reference
    assert res.verified == partial.count(b"\n")
