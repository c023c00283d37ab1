"""A model that keeps failing is said out loud and, after `max_failed_calls` in a row, given up.

Before: a trader pointed at a server that is not running journaled one `provider_error` HOLD
per decision, silently, for the whole run (minutes at the rate limit for a daily S&P run).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.plugins.llm.conftest import (
    Reply,
    WireServer,
    _free_port,
    decision_json,
    ollama_reply,
    run_llm,
    trader,
)
from tests.plugins.llm.test_llm_trader import scripted

Slice = Callable[[int], Path]


def dead_trader(**params: Any) -> dict[str, Any]:
    """An Ollama trader pointed at a port nothing listens on (connection refused at once)."""
    base = {
        "provider": "ollama",
        "model": "llama3.2",
        "host": f"http://127.0.0.1:{_free_port()}",
        "warmup": 50,
        "every": 5,
        "decide_on": "",
        "timeout": 5.0,
        "cache": "off",
    }
    base.update(params)
    return trader("llm", **base)


def kinds(records: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [r for r in records if r["kind"] == kind]


def test_a_dead_server_is_warned_about_at_once_and_given_up_after_a_streak(
    sp500_slice: Slice, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        result, records = run_llm(sp500_slice(150), tmp_path / "j", dead_trader(max_failed_calls=3))
    decisions = kinds(records, "llm_decision")
    # 3 failed calls raise once; the engine disables a strategy at its 3rd error
    assert [d["reason_code"] for d in decisions] == ["provider_error"] * 9
    failed = kinds(records, "strategy_failed")
    assert len(failed) == 3
    assert "3 model calls in a row failed" in failed[0]["error"]
    assert "ollama" in failed[0]["error"] and "127.0.0.1" in failed[0]["error"]
    assert len(kinds(records, "strategy_disabled")) == 1
    assert not result.strategies["llm"].enabled
    first = [r for r in caplog.records if "model call failed" in r.getMessage()]
    assert first and "llm" in first[0].getMessage()
    assert len(first) == 3  # once per streak, not once per call


def test_zero_keeps_holding_through_any_outage(sp500_slice: Slice, tmp_path: Path) -> None:
    result, records = run_llm(sp500_slice(120), tmp_path / "j", dead_trader(max_failed_calls=0))
    decisions = kinds(records, "llm_decision")
    assert len(decisions) == 15  # bars 50, 55, ..., 120
    assert {d["reason_code"] for d in decisions} == {"provider_error"}
    assert not kinds(records, "strategy_failed")
    assert result.strategies["llm"].enabled


def test_an_answer_ends_the_streak(wire: WireServer, sp500_slice: Slice, tmp_path: Path) -> None:
    down = Reply(500, {"error": "llama runner process has terminated"})
    up = ollama_reply(decision_json(action="HOLD", size=0.0))
    wire.on("/api/chat", scripted(down, down, up, down, down, up, down, down, up))
    result, records = run_llm(
        sp500_slice(95),
        tmp_path / "j",
        trader(
            "llm",
            provider="ollama",
            model="llama3.2",
            warmup=50,
            every=5,
            decide_on="",
            cache="off",
            max_failed_calls=3,
        ),
    )
    codes = [d["reason_code"] for d in kinds(records, "llm_decision")]
    down2 = ["provider_error", "provider_error"]
    assert codes == [*down2, "ok", *down2, "ok", *down2, "ok", "ok"]  # the last reply repeats
    assert not kinds(records, "strategy_failed")
    assert result.strategies["llm"].enabled


def test_a_cached_rerun_gives_up_at_the_same_decision(sp500_slice: Slice, tmp_path: Path) -> None:
    # failures are recorded outcomes: a re-run served from the cache must journal the same
    # stream, strategy_failed and strategy_disabled included, without calling anything
    data = sp500_slice(150)
    entry = dead_trader(max_failed_calls=3, cache="readwrite", cache_dir=str(tmp_path / "c"))
    _, first = run_llm(data, tmp_path / "a", entry)
    result, second = run_llm(data, tmp_path / "b", entry)

    def stream(records: list[dict[str, Any]]) -> list[tuple[str, int]]:
        return [(r["kind"], r["time"]) for r in records if r["kind"] != "run_started"]

    assert stream(second) == stream(first)
    assert result.strategies["llm"].stats["llm_calls"] == 0


def test_the_setting_is_checked(sp500_slice: Slice, tmp_path: Path) -> None:
    from papertape.engine.errors import ConfigError

    with pytest.raises(ConfigError, match="max_failed_calls"):
        run_llm(sp500_slice(60), tmp_path / "j", dead_trader(max_failed_calls=-1))
