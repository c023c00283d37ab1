"""The real LLM trader as an ensemble member, against a loopback Ollama: vote, HOLDs, replay.

The model is the scripted loopback server of the LLM tests (its wire format is Ollama's), so
the trader's whole path runs: prompt, call, validation, cache, its ``llm_decision`` records.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from papertape.engine.journal.replay import replay_run
from tests.plugins.llm.conftest import (  # noqa: F401 - fixtures used by name
    Reply,
    Seen,
    WireServer,
    _wire_server,
    decision_json,
    ollama_reply,
    run_llm,
    sp500_slice,
    wire,
)


def _answers() -> Callable[[Seen], Reply]:
    replies = [
        ollama_reply(decision_json(action="BUY", size=0.9, confidence=0.8, reasoning="up")),
        ollama_reply(decision_json(action="HOLD")),
        ollama_reply("this is not JSON at all"),
        ollama_reply(decision_json(action="CLOSE", confidence=0.8, reasoning="done")),
    ]
    count = [0]
    lock = threading.Lock()

    def handler(_seen: Seen) -> Reply:
        with lock:
            i = min(count[0], len(replies) - 1)
            count[0] += 1
        return replies[i]

    return handler


def test_an_llm_member_votes_its_holds_abstain_and_the_journal_replays_exactly(
    wire: WireServer,  # noqa: F811 - the fixture
    sp500_slice: Callable[[int], Path],  # noqa: F811 - the fixture
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wire.on("/api/chat", _answers())
    llm = "llm_trader:provider=ollama,model=llama3.2,warmup=40,every=30,decide_on="
    llm += f",cache_dir={tmp_path / 'cache'}@2"
    vote = {
        "name": "ensemble",
        "id": "vote",
        "params": {"members": f"{llm}; sma_cross:fast=5,slow=20@1", "max_member_errors": 9},
    }
    result, records = run_llm(sp500_slice(200), tmp_path / "j", vote)

    decisions = [r for r in records if r["kind"] == "llm_decision"]
    assert [d["strategy"] for d in decisions] == ["vote/llm_trader"] * len(decisions)
    assert len(decisions) >= 4 and len(wire.requests("/api/chat")) == len(decisions)
    codes = [(d["action"], d["reason_code"]) for d in decisions]
    assert codes[:4] == [("BUY", "ok"), ("HOLD", "ok"), ("HOLD", codes[2][1]), ("CLOSE", "ok")]
    assert codes[2][1] != "ok"  # the garbage answer became an explicit HOLD
    dropped = [r for r in records if r["kind"] == "member_dropped"]
    # the HOLD and the garbage answer: the member abstained from those two votes
    assert [(r["member"], r["reason"]) for r in dropped[:2]] == [("llm_trader", "abstained")] * 2
    assert {r["time"] for r in dropped[:2]} == {d["time"] for d in decisions[1:3]}
    signals = [r for r in records if r["kind"] == "signal" and r["strategy"] == "vote"]
    # the member's BUY (size 0.9, weight 2) carries a vote against the flat crossover ...
    assert any(
        s["target"] == "long" and "llm_trader=long, sma_cross=flat" in s["reason"] for s in signals
    )
    # ... and on the bar of its garbage answer it is not among the voters
    garbage = [s for s in signals if s["time"] == decisions[2]["time"]]
    assert garbage and all("llm_trader" not in s["reason"] for s in garbage)

    wire.on("/api/chat", Reply(500, {"error": "the model must not be called"}))
    calls = len(wire.requests("/api/chat"))
    replayed = replay_run(result.journal_path.parent, out=tmp_path / "replay")  # type: ignore[union-attr]
    assert len(wire.requests("/api/chat")) == calls
    assert replayed.exact, replayed
