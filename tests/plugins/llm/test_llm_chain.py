"""Fallback chains (``models = [a, b, c]``) and ``min_confidence``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from papertape.engine.cli.report import result_json
from papertape.engine.errors import ConfigError
from papertape.plugins.llm.chain import link_specs
from papertape.plugins.llm.trader import LlmTrader
from tests.plugins.llm.conftest import SP500, Reply, WireServer, _free_port, body, run_llm, trader
from tests.plugins.llm.test_llm_openai import CHAT, KEY_ENV, SECRET


@pytest.fixture
def keyed(wire: WireServer, monkeypatch: pytest.MonkeyPatch) -> WireServer:
    monkeypatch.setenv(KEY_ENV, SECRET)
    wire.on(CHAT, Reply(200, body("openai_chat.json")))  # a BUY at confidence 0.62
    return wire


def decisions(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if r["kind"] == "llm_decision"]


def test_a_dead_first_model_falls_back_and_the_journal_says_who_answered(
    keyed: WireServer, sp500_slice: Any, tmp_path: Path
) -> None:
    dead = f"http://127.0.0.1:{_free_port()}/v1"  # nothing listens there
    chain = [
        {"provider": "openai", "model": "gpt-4.1", "base_url": dead, "api_key_env": ""},
        {"provider": "openai", "model": "gpt-4.1-mini", "base_url": f"{keyed.url}/v1",
         "api_key_env": KEY_ENV},
    ]  # fmt: skip
    entry = trader(models=chain, every=50, warmup=50, max_retries=0, cache_dir=str(tmp_path / "c"))
    data = sp500_slice(101)

    live, records = run_llm(data, tmp_path / "j", entry)
    replay, replayed = run_llm(
        data, tmp_path / "j", {**entry, "params": {**entry["params"], "cache": "replay"}}
    )

    got = decisions(records)
    assert [d["reason_code"] for d in got] == ["ok", "ok"]
    assert all(d["model"] == "gpt-4.1-mini" and d["provider"] == "openai" for d in got)
    assert (
        "answered by openai:gpt-4.1-mini after: openai:gpt-4.1 provider_error" in got[0]["detail"]
    )
    assert any(r["kind"] == "fill" for r in records)  # the fallback's BUY was traded
    assert len(keyed.requests(CHAT)) == 2
    assert live.strategies["llm"].stats["llm_calls"] == 4  # two attempts per decision
    stats = result_json(replay)["strategies"]["llm"]["stats"]
    assert stats["llm_calls"] == 0 and stats["cache_hits"] == 4  # the same path, from the cache
    assert [d["detail"] for d in decisions(replayed)] == [d["detail"] for d in got]


def test_a_bad_answer_does_not_fall_back(
    keyed: WireServer, sp500_slice: Any, tmp_path: Path
) -> None:
    bad = body("openai_chat.json")
    bad["choices"][0]["message"]["content"] = '{"action": "BUY"}'
    keyed.on(CHAT, Reply(200, bad))
    chain = [
        {"provider": "openai", "base_url": f"{keyed.url}/v1", "api_key_env": KEY_ENV},
        {"provider": "openai", "model": "gpt-4o", "base_url": "http://127.0.0.1:9/v1"},
    ]

    _, records = run_llm(
        sp500_slice(60), tmp_path / "j", trader(models=chain, every=100, cache="off")
    )

    (d,) = decisions(records)
    assert d["reason_code"] == "schema_violation" and d["model"] == "gpt-4.1-mini"


@pytest.mark.parametrize(
    ("floor", "code", "traded"), [(0.7, "low_confidence", False), (0.6, "ok", True)]
)
def test_min_confidence_holds_a_less_confident_decision(
    keyed: WireServer, sp500_slice: Any, tmp_path: Path, floor: float, code: str, traded: bool
) -> None:
    entry = trader(
        provider="openai",
        base_url=f"{keyed.url}/v1",
        api_key_env=KEY_ENV,
        min_confidence=floor,
        every=100,
        cache="off",
    )

    result, records = run_llm(sp500_slice(60), tmp_path / "j", entry)

    (d,) = decisions(records)
    assert d["reason_code"] == code and d["decision"]["confidence"] == 0.62
    assert d["action"] == ("BUY" if traded else "HOLD")
    assert any(r["kind"] == "order" for r in records) is traded
    assert result.strategies["llm"].stats["actions"] == {d["action"]: 1}
    if not traded:
        assert "0.62 < min_confidence 0.7" in d["detail"]


def test_chain_entries_are_self_contained_and_checked() -> None:
    own = {**LlmTrader.defaults, "provider": "openai", "base_url": "https://api.deepseek.com"}

    specs = link_specs(
        own, ["local", "ollama:llama3.2", {"provider": "openai", "model": "x"}], LlmTrader.defaults
    )

    assert [(s["provider"], s["model"]) for s in specs] == [
        ("local", ""),
        ("ollama", "llama3.2"),
        ("openai", "x"),
    ]
    assert all(s["base_url"] == "" for s in specs)  # never another provider's endpoint
    cli = link_specs(own, "local, ollama:llama3.2", LlmTrader.defaults)
    assert [(s["provider"], s["model"]) for s in cli] == [("local", ""), ("ollama", "llama3.2")]
    assert link_specs(own, [], LlmTrader.defaults)[0]["base_url"] == "https://api.deepseek.com"
    for bad, match in [
        (["nope:x"], "provider must be"),
        ([{"provider": "local", "k": 1}], "unknown keys"),
        ([3], "string or a table"),
    ]:
        with pytest.raises(ConfigError, match=match):
            link_specs(own, bad, LlmTrader.defaults)


def test_a_malformed_chain_fails_at_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="models"):
        run_llm(SP500, tmp_path, trader(models=[{"provider": "local", "oops": 1}]))
