"""Memory for the multi-agent desk and the switcher: the same recall as the single trader.

The tape and past runs are the memory tests' (``test_llm_memory``): a sine that repeats every
10 bars, an ``early`` run deciding on bar 57 (phase 7, unlike bars 80 and 90; outcome known at
bar 77) and a ``late`` run deciding on bar 70 (known at bar 90, and exactly like bars 80 and
90). Decisions fall on bars 80 and 90, so the bar-80 prompt may only recall ``early``
(2000-02-27) and the bar-90 prompt recalls ``late`` (2000-03-11): what each call saw says
whether the recall looked ahead.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from papertape.analysis.journal.stats import journal_stats
from papertape.engine.errors import ConfigError
from papertape.engine.journal import read_journal
from papertape.engine.journal.replay.rerun import replay_run
from papertape.plugins.llm.multi_agent import ROLE_PROMPTS
from tests.plugins.llm.conftest import Reply, Seen, WireServer, decision_json, ollama_reply
from tests.plugins.llm.test_llm_journal_replay import _refuse_every_model
from tests.plugins.llm.test_llm_memory import _session, bar_time, past_run

EARLY, LATE = "[m1] 2000-02-27 TAPE", "[m1] 2000-03-11 TAPE"  # bars 57 and 70
DESK = {"technical": "BUY", "risk": "HOLD", "bull": "BUY", "bear": "CLOSE", "trader": "BUY",
        "risk_manager": "BUY"}  # fmt: skip


def _sources(tmp_path: Path) -> str:
    past_run(tmp_path, "early", "57:long")
    past_run(tmp_path, "late", "70:long,120:long")
    return str(tmp_path / "store")


def _entry(tmp_path: Path, name: str, sid: str, **params: Any) -> dict[str, Any]:
    base = {
        "provider": "ollama",
        "model": "llama3.2",
        "warmup": 81,  # decides on bars 80 and 90
        "every": 10,
        "decide_on": "",
        "timeout": 30.0,
        "cache_dir": str(tmp_path / "cache"),
    }
    return {"name": name, "id": sid, "params": {**base, **params}}


class Calls:
    """The wire's answers, and every prompt asked, as ``(who, system, user)``."""

    def __init__(self, who: str) -> None:
        self.who = who
        self.asked: list[tuple[str, str, str]] = []
        self.lock = threading.Lock()

    def __call__(self, seen: Seen) -> Reply:
        system, user = (m["content"] for m in seen.json["messages"])
        if self.who == "role":
            who = next(r for r, text in ROLE_PROMPTS.items() if system.startswith(text))
            action = DESK[who]
        else:
            who, action = seen.json["model"], "HOLD"
        with self.lock:
            self.asked.append((who, system, user))
        size = 0.5 if action == "BUY" else 0.0
        return ollama_reply(decision_json(action=action, size=size, reasoning=f"{who} {action}"))


def _decisions(run: Path) -> list[dict[str, Any]]:
    return [r for r in read_journal(run) if r["kind"] == "llm_decision"]


def test_every_desk_role_reads_the_memory_and_the_desks_decision_journals_it(
    wire: WireServer, tmp_path: Path
) -> None:
    store = _sources(tmp_path)
    calls = Calls("role")
    wire.on("/api/chat", calls)
    desk = _entry(tmp_path, "llm_multi_agent", "desk", memory=1, memory_from=[store])

    run = _session(tmp_path, "desk", desk)

    # Two meetings of six calls (2 analysts, bull, bear, trader, risk manager), in that order.
    assert [who for who, _, _ in calls.asked] == 2 * [*DESK]
    first, second = calls.asked[:6], calls.asked[6:]
    assert all(EARLY in user and LATE not in user for _, _, user in first)  # no look-ahead
    assert all(LATE in user for _, _, user in second)
    got = _decisions(run)
    final = [d for d in got if ":" not in d["decision_id"]]
    assert [d["time"] for d in final] == [bar_time(80), bar_time(90)]
    assert [d["memory"][0].split("-")[0] for d in final] == ["early", "late"]
    assert all(d["memory"] == [] for d in got if ":" in d["decision_id"])  # counted once
    assert journal_stats(run.parent, attribute=False).memory == {
        "desk": {"decisions": 2, "recalled": 2, "distinct": 2}
    }
    # The memory is in every role's request, so in every cache key: a desk without memory
    # shares no answer with it.
    plain = _session(tmp_path, "plain", _entry(tmp_path, "llm_multi_agent", "desk"))
    assert all("Similar past situations" not in user for _, _, user in calls.asked[12:])
    assert {d["cache_key"] for d in got}.isdisjoint(d["cache_key"] for d in _decisions(plain))
    assert replay_run(run.parent, out=tmp_path / "replay").exact


def test_the_switcher_shows_every_model_the_memory_and_journals_the_routed_ones(
    wire: WireServer, tmp_path: Path
) -> None:
    store = _sources(tmp_path)
    calls = Calls("model")
    wire.on("/api/chat", calls)
    models = ["ollama:a", "ollama:b"]
    switcher = _entry(
        tmp_path, "llm_switcher", "sw", models=models, memory=1, memory_from=[store], min_eval=1
    )

    run = _session(tmp_path, "sw", switcher)

    assert sorted(who for who, _, _ in calls.asked) == ["a", "a", "b", "b"]
    for who in ("a", "b"):
        at_80, at_90 = (user for w, _, user in calls.asked if w == who)
        assert EARLY in at_80 and LATE not in at_80 and LATE in at_90
    final = _decisions(run)
    assert [d["memory"][0].split("-")[0] for d in final] == ["early", "late"]
    assert journal_stats(run.parent, attribute=False).memory == {
        "sw": {"decisions": 2, "recalled": 2, "distinct": 2}
    }
    assert replay_run(run.parent, out=tmp_path / "replay").exact


def test_a_desk_with_memory_reruns_from_the_cache_and_replays_other_fees_without_a_model(
    wire: WireServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _sources(tmp_path)
    calls = Calls("role")
    wire.on("/api/chat", calls)
    desk = _entry(tmp_path, "llm_multi_agent", "desk", memory=1, memory_from=[store])
    run = _session(tmp_path, "desk", desk)
    asked = len(calls.asked)

    again = _session(tmp_path, "again", desk)  # the same desk, memory and all: cache hits

    assert len(calls.asked) == asked == 12
    assert _decisions(again) == _decisions(run)
    assert [d["memory"] != [] for d in _decisions(run)] == 2 * [*[False] * 5, True]
    _refuse_every_model(wire, monkeypatch)
    costly = replay_run(run.parent, fees_bps=25.0, out=tmp_path / "costly")
    assert len(calls.asked) == asked
    assert not costly.exact and _decisions(costly.journal) == _decisions(run)
    fills = [r for r in read_journal(costly.journal) if r["kind"] == "fill"]
    assert fills and all(f["fee"] == pytest.approx(f["qty"] * f["price"] * 25e-4) for f in fills)


@pytest.mark.parametrize("name", ["llm_multi_agent", "llm_switcher"])
def test_memory_without_a_source_fails_either_desk_at_start(name: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="memory_from"):
        _session(tmp_path, "bad", _entry(tmp_path, name, "x", models=["ollama:a", "ollama:b"],
                                         memory=2))  # fmt: skip
