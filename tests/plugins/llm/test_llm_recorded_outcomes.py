"""Resume and re-runs serve a recorded failed call (a timeout) exactly as it was recorded."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from papertape.engine.journal.replay.resume import resume_session
from tests.plugins.llm.conftest import (
    Reply,
    Seen,
    WireServer,
    decision_json,
    ollama_reply,
    run_llm,
    trader,
)

Slice = Callable[[int], Path]


def _first_times_out(calls: list[int]) -> Callable[[Seen], Reply]:
    """The first request answers too late (a timeout); later ones answer at once."""
    lock = threading.Lock()

    def handler(_seen: Seen) -> Reply:
        with lock:
            calls.append(1)
            first = len(calls) == 1
        if first:
            return Reply(200, {}, delay=2.0)
        return ollama_reply(decision_json(action="BUY", size=0.5, reasoning="up"))

    return handler


def _entry(cache_dir: Path, **params: Any) -> dict[str, Any]:
    base = {
        "provider": "ollama",
        "model": "llama3.2",
        "warmup": 50,
        "every": 40,
        "decide_on": "",
        "timeout": 0.5,
        "cache_dir": str(cache_dir),
    }
    base.update(params)
    return trader("llm", **base)


def test_a_rerun_serves_a_cached_timeout_as_recorded(
    wire: WireServer, sp500_slice: Slice, tmp_path: Path
) -> None:
    calls: list[int] = []
    wire.on("/api/chat", _first_times_out(calls))
    data = sp500_slice(180)
    entry = _entry(tmp_path / "cache")

    first, records = run_llm(data, tmp_path / "j1", entry)
    asked = len(calls)
    second, _ = run_llm(data, tmp_path / "j2", entry)

    codes = [r["reason_code"] for r in records if r["kind"] == "llm_decision"]
    assert codes[0] == "timeout" and "ok" in codes
    assert len(calls) == asked  # the recorded timeout was served, not asked again
    assert first.journal_path is not None and second.journal_path is not None
    assert second.journal_path.read_bytes() == first.journal_path.read_bytes()


def test_resume_after_a_timed_out_call_reproduces_the_journal(
    wire: WireServer, sp500_slice: Slice, tmp_path: Path
) -> None:
    calls: list[int] = []
    wire.on("/api/chat", _first_times_out(calls))
    data = sp500_slice(180)
    full, _ = run_llm(data, tmp_path / "j", _entry(tmp_path / "cache"))
    assert full.journal_path is not None
    whole = full.journal_path.read_bytes()
    lines = whole.splitlines(keepends=True)
    cut = next(i for i, x in enumerate(lines) if b'"reason_code":"ok"' in x) + 1
    full.journal_path.write_bytes(b"".join(lines[:cut]))  # interrupted after the 2nd decision
    asked = len(calls)

    resumed = resume_session(full.journal_path.parent)

    assert resumed.verified == cut
    assert len(calls) == asked
    assert full.journal_path.read_bytes() == whole
    assert os.path.getsize(full.journal_path) == len(whole)


def test_retry_mode_asks_again_for_a_cached_failure(
    wire: WireServer, sp500_slice: Slice, tmp_path: Path
) -> None:
    calls: list[int] = []
    wire.on("/api/chat", _first_times_out(calls))
    data = sp500_slice(60)  # one decision
    _, first = run_llm(data, tmp_path / "j1", _entry(tmp_path / "cache"))
    asked = len(calls)

    _, records = run_llm(data, tmp_path / "j2", _entry(tmp_path / "cache", cache="retry"))

    assert [r["reason_code"] for r in first if r["kind"] == "llm_decision"] == ["timeout"]
    assert len(calls) == asked + 1  # the failed entry is asked again
    assert [r["reason_code"] for r in records if r["kind"] == "llm_decision"] == ["ok"]
