"""The multi-agent desk: every role's call journaled, linked by the decision id, replayed from
the cache; the risk manager shrinks or vetoes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from papertape.engine.cli.report import result_json
from papertape.engine.errors import ConfigError
from papertape.plugins.llm.multi_agent import ROLE_PROMPTS
from tests.plugins.llm.conftest import Reply, Seen, WireServer, body, run_llm
from tests.plugins.llm.test_llm_openai import CHAT, KEY_ENV, SECRET

VIEWS = {
    "technical": ("BUY", 0.5),
    "risk": ("HOLD", 0.0),
    "bull": ("BUY", 0.8),
    "bear": ("CLOSE", 0.0),
    "trader": ("BUY", 0.6),
}


def desk(risk_manager: tuple[str, float]) -> Any:
    """Recorded answers per role (the role is recognised by its system prompt)."""

    def answer(seen: Seen) -> Reply:
        system = seen.json["messages"][0]["content"]
        role = next(r for r, text in ROLE_PROMPTS.items() if system.startswith(text))
        action, size = risk_manager if role == "risk_manager" else VIEWS[role]
        reply = body("openai_chat.json")
        content = {"reasoning": f"{role} says {action}", "action": action, "size": size,
                   "confidence": 0.7, "stop_loss_pct": None, "take_profit_pct": None}  # fmt: skip
        reply["choices"][0]["message"]["content"] = json.dumps(content)
        return Reply(200, reply)

    return answer


def entry(wire: WireServer, tmp_path: Path, **params: Any) -> dict[str, Any]:
    return {
        "name": "llm_multi_agent",
        "id": "desk",
        "params": {"provider": "openai", "base_url": f"{wire.url}/v1", "api_key_env": KEY_ENV,
                   "every": 100, "warmup": 50, "rounds": 1, "cache_dir": str(tmp_path / "c"),
                   **params},
    }  # fmt: skip


@pytest.fixture
def keyed(wire: WireServer, monkeypatch: pytest.MonkeyPatch) -> WireServer:
    monkeypatch.setenv(KEY_ENV, SECRET)
    return wire


def test_every_role_is_journaled_and_the_desk_replays_from_the_cache(
    keyed: WireServer, sp500_slice: Any, tmp_path: Path
) -> None:
    keyed.on(CHAT, desk(("BUY", 0.2)))  # the risk manager shrinks 0.6 to 0.2
    data = sp500_slice(60)

    live, records = run_llm(data, tmp_path / "j", entry(keyed, tmp_path))
    replay, _ = run_llm(data, tmp_path / "j", entry(keyed, tmp_path))

    got = [r for r in records if r["kind"] == "llm_decision"]
    assert [d["decision_id"] for d in got] == [
        "desk#1:technical",
        "desk#1:risk",
        "desk#1:bull",
        "desk#1:bear",
        "desk#1:risk_manager",
        "desk#1",
    ]
    assert [d["action"] for d in got] == ["BUY", "HOLD", "BUY", "CLOSE", "BUY", "BUY"]
    final = got[-1]
    assert final["decision"]["size"] == 0.2 and "shrunk to 0.2" in final["detail"]
    trader_prompt = keyed.requests(CHAT)[4].json["messages"][1]["content"]
    assert "bear: CLOSE" in trader_prompt and "technical: BUY" in trader_prompt  # the debate
    assert len(keyed.requests(CHAT)) == 6
    assert any(r["kind"] == "order" for r in records)
    assert live.strategies["desk"].stats["llm_calls"] == 6
    assert live.strategies["desk"].stats["decisions"] == 1
    stats = result_json(replay)["strategies"]["desk"]["stats"]
    assert stats["llm_calls"] == 0 and stats["cache_hits"] == 6
    assert replay.journal_path is not None and live.journal_path is not None
    assert replay.journal_path.read_bytes() == live.journal_path.read_bytes()


def test_the_risk_manager_vetoes(keyed: WireServer, sp500_slice: Any, tmp_path: Path) -> None:
    keyed.on(CHAT, desk(("HOLD", 0.0)))

    _, records = run_llm(sp500_slice(60), tmp_path / "j", entry(keyed, tmp_path, cache="off"))

    final = [r for r in records if r["kind"] == "llm_decision"][-1]
    assert final["decision_id"] == "desk#1" and final["action"] == "HOLD"
    assert "vetoed by the risk manager" in final["detail"]
    assert not any(r["kind"] == "order" for r in records)


def test_unknown_roles_are_refused(keyed: WireServer, sp500_slice: Any, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="analysts"):
        run_llm(sp500_slice(60), tmp_path / "j", entry(keyed, tmp_path, analysts="astrology"))


def test_every_roles_raw_answer_is_capped_in_the_journal(
    keyed: WireServer, sp500_slice: Any, tmp_path: Path
) -> None:
    """A 20 KB answer is validated whole but journaled to ``journal_raw_chars`` per role."""
    plain = desk(("BUY", 0.2))

    def long_answer(seen: Seen) -> Reply:
        reply = plain(seen)
        msg = reply.payload["choices"][0]["message"]
        msg["content"] += " " * 20_000  # still one valid JSON document, 20 KB long
        return reply

    keyed.on(CHAT, long_answer)
    params = {"cache": "off", "journal_raw_chars": 512}
    _, records = run_llm(sp500_slice(60), tmp_path / "j", entry(keyed, tmp_path, **params))

    roles = [r for r in records if r["kind"] == "llm_decision" and ":" in r["decision_id"]]
    assert len(roles) == 5
    for r in roles:
        assert len(r["raw"]) == 512 and r["raw_truncated"] is True
        assert r["raw_length"] > 20_000 and r["reason_code"] == "ok"
