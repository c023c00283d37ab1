"""The OpenAI-compatible provider: the recorded api.openai.com wire format through the official
SDK on a loopback server, and for real against llama-cpp-python's own server (offline)."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from papertape.engine.cli.report import result_json
from papertape.engine.errors import ConfigError, ModelError
from papertape.plugins.llm.providers import capability_table, make_provider
from papertape.plugins.llm.providers.base import LlmRequest, LlmResponse
from papertape.plugins.llm.providers.openai_compat import (
    OPENAI_PRICES,
    OpenAIProvider,
    register_price,
    structured_mode_for,
)
from papertape.plugins.llm.schema import ReasonCode, decision_schema, parse_decision
from tests.plugins.llm.conftest import SP500, Reply, Seen, WireServer, body, run_llm, trader

SECRET = "sk-test-0123456789-openai-secret"
KEY_ENV = "PAPERTAPE_TEST_OPENAI_KEY"
CHAT = "/v1/chat/completions"


@pytest.fixture
def keyed(wire: WireServer, monkeypatch: pytest.MonkeyPatch) -> WireServer:
    monkeypatch.setenv(KEY_ENV, SECRET)
    return wire


def provider(wire: WireServer, **kw: Any) -> OpenAIProvider:
    return OpenAIProvider("gpt-4.1-mini", base_url=f"{wire.url}/v1", api_key_env=KEY_ENV, **kw)


def ask(p: OpenAIProvider) -> LlmResponse:
    return asyncio.run(
        p.complete(
            LlmRequest("persona", "context", decision_schema(), "trade_decision", max_tokens=300)
        )
    )


def test_openai_json_schema_request_and_priced_answer(keyed: WireServer) -> None:
    keyed.on(CHAT, Reply(200, body("openai_chat.json")))

    resp = ask(provider(keyed))

    (seen,) = keyed.requests(CHAT)
    sent = seen.json
    assert seen.headers["authorization"] == f"Bearer {SECRET}"
    assert sent["model"] == "gpt-4.1-mini" and sent["max_tokens"] == 300
    assert sent["messages"] == [
        {"role": "system", "content": "persona"},
        {"role": "user", "content": "context"},
    ]
    fmt = sent["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["name"] == "trade_decision"
    assert fmt["json_schema"]["schema"] == decision_schema()
    assert (sent["temperature"], sent["seed"]) == (0.0, 0)
    parsed = parse_decision(resp.text, truncated=resp.truncated)
    assert parsed.code is ReasonCode.OK and parsed.decision is not None
    assert parsed.decision.action.value == "BUY" and parsed.decision.size == 0.4
    assert (resp.tokens_in, resp.tokens_out) == (812, 74)
    assert resp.cost == pytest.approx((812 * 0.40 + 74 * 1.60) / 1e6)
    assert resp.model == "gpt-4.1-mini-2025-04-14" and not resp.refusal


def test_reasoning_models_get_max_completion_tokens_and_no_temperature(
    keyed: WireServer,
) -> None:
    keyed.on(CHAT, Reply(200, body("openai_chat.json")))

    ask(OpenAIProvider("gpt-5-mini", base_url=f"{keyed.url}/v1", api_key_env=KEY_ENV))

    sent = keyed.requests(CHAT)[0].json
    assert sent["max_completion_tokens"] == 300
    assert "max_tokens" not in sent and "temperature" not in sent


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (400, "json_schema not supported"),
        (500, "body.response_format.type: Input should be 'text' or 'json_object'"),  # llama.cpp
    ],
)
def test_a_server_that_rejects_json_schema_gets_json_mode_with_the_schema(
    keyed: WireServer, status: int, message: str
) -> None:
    def answer(seen: Seen) -> Reply:
        if seen.json["response_format"]["type"] == "json_schema":
            return Reply(status, {"error": {"message": message, "type": "x"}})
        return Reply(200, body("openai_chat.json"))

    keyed.on(CHAT, answer)
    p = provider(keyed, max_retries=0)

    first, second = ask(p), ask(p)

    kinds = [s.json["response_format"]["type"] for s in keyed.requests(CHAT)]
    assert kinds == ["json_schema", "json_object", "json_object"]  # probed once, remembered
    sent = keyed.requests(CHAT)[-1].json
    assert sent["response_format"]["schema"] == decision_schema()
    assert '"additionalProperties":false' in sent["messages"][0]["content"]
    assert p.mode == "json_object"
    assert parse_decision(first.text).code is parse_decision(second.text).code is ReasonCode.OK


def test_the_capability_table_knows_which_hosts_take_a_schema() -> None:
    assert structured_mode_for("") == "json_schema"  # api.openai.com
    assert structured_mode_for("https://api.deepseek.com/v1") == "json_object"
    assert structured_mode_for("https://openrouter.ai/api/v1") == "json_schema"
    assert structured_mode_for("http://127.0.0.1:8000/v1") == "auto"
    assert (
        OpenAIProvider("deepseek-chat", base_url="https://api.deepseek.com").mode == "json_object"
    )
    rows = {r["provider"]: r for r in capability_table()}
    assert rows["openai"]["seed"] is True and rows["openai"]["cost_in_per_mtok"] > 0


def test_prices_are_extensible_and_unknown_models_are_priced_safely(
    caplog: pytest.LogCaptureFixture,
) -> None:
    register_price("my-finetune", 0.5, 1.5)
    try:
        assert OpenAIProvider("my-finetune-v2").capabilities.cost(10**6, 10**6) == 2.0
    finally:
        OPENAI_PRICES.pop("my-finetune")
    with caplog.at_level(logging.WARNING):
        unknown = OpenAIProvider("mystery-model", base_url="https://api.example.com/v1")
    assert unknown.capabilities.cost_out_per_mtok >= 10 and "mystery-model" in caplog.text
    assert OpenAIProvider("mystery", base_url="http://127.0.0.1:9/v1").capabilities.cost(9, 9) == 0
    overridden = OpenAIProvider("gpt-4.1-mini", price_in=1.0, price_out=2.0).capabilities
    assert (overridden.cost_in_per_mtok, overridden.cost_out_per_mtok) == (1.0, 2.0)


def test_refusal_and_truncation_are_reported(keyed: WireServer) -> None:
    refused = body("openai_chat.json")
    refused["choices"][0]["message"].update(content=None, refusal="I can't help with that.")
    cut = body("openai_chat.json")
    cut["choices"][0].update(finish_reason="length")
    cut["choices"][0]["message"]["content"] = '{"reasoning": "The tre'

    keyed.on(CHAT, Reply(200, refused))
    r = ask(provider(keyed))
    assert r.refusal and "can't" in r.text
    keyed.on(CHAT, Reply(200, cut))
    r = ask(provider(keyed))
    assert r.truncated and parse_decision(r.text, truncated=True).code is ReasonCode.TRUNCATED


@pytest.mark.parametrize(
    ("reply", "fragment"),
    [
        (Reply(401, body("openai_error.json")), "HTTP 401: invalid_request_error"),
        (Reply(500, {"error": {"message": "boom", "type": "server_error"}}), "HTTP 500"),
        (Reply(200, raw=b"{not json"), "openai"),
    ],
)
def test_openai_failures_raise_model_error_without_the_key(
    keyed: WireServer, reply: Reply, fragment: str, caplog: pytest.LogCaptureFixture
) -> None:
    keyed.on(CHAT, reply)
    p = provider(keyed, max_retries=0)

    with caplog.at_level(logging.DEBUG), pytest.raises(ModelError, match=fragment) as err:
        ask(p)

    assert SECRET not in str(err.value) and SECRET not in repr(p) and SECRET not in caplog.text
    assert KEY_ENV in repr(p)


def test_openai_timeout_and_missing_key(
    keyed: WireServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    keyed.on(CHAT, Reply(200, body("openai_chat.json"), delay=2.0))

    with pytest.raises(TimeoutError):
        ask(provider(keyed, timeout=0.3, max_retries=0))
    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(ModelError, match=KEY_ENV):
        ask(provider(keyed))
    with pytest.raises(ConfigError, match="api_key_env"):
        run_llm(SP500, tmp_path, trader(provider="openai", api_key_env=KEY_ENV))


def test_the_trader_journals_openai_decisions_without_the_key(
    keyed: WireServer, sp500_slice: Any, tmp_path: Path
) -> None:
    keyed.on(CHAT, Reply(200, body("openai_chat.json")))
    entry = trader(
        provider="openai",
        model="gpt-4.1-mini",
        base_url=f"{keyed.url}/v1",
        api_key_env=KEY_ENV,
        every=50,
        warmup=50,
        cache_dir=str(tmp_path / "c"),
    )

    result, records = run_llm(sp500_slice(101), tmp_path / "j", entry)

    decisions = [r for r in records if r["kind"] == "llm_decision"]
    assert [d["reason_code"] for d in decisions] == ["ok", "ok"]
    assert decisions[0]["provider"] == "openai" and decisions[0]["cost"] > 0
    assert result.journal_path is not None and SECRET not in result.journal_path.read_text()
    assert not any(SECRET in p.read_text() for p in (tmp_path / "c").rglob("*.json"))


@pytest.mark.slow
def test_the_provider_trades_against_a_real_llama_cpp_server(
    llama_server: str, sp500_slice: Any, tmp_path: Path
) -> None:
    entry = trader(
        provider="openai",
        model="gemma3-270m",
        base_url=llama_server,
        api_key_env="",
        every=50,
        warmup=50,
        timeout=600.0,
        max_output_tokens=200,
        cache_dir=str(tmp_path / "cache"),
    )
    data = sp500_slice(101)

    live, records = run_llm(data, tmp_path / "j", entry)
    assert live.journal_path is not None
    live_bytes = live.journal_path.read_bytes()
    replay, _ = run_llm(data, tmp_path / "j", entry)
    offline, _ = run_llm(
        data,
        tmp_path / "j",
        {
            **entry,
            "params": {**entry["params"], "cache": "replay", "base_url": "http://127.0.0.1:9/v1"},
        },
    )

    decisions = [r for r in records if r["kind"] == "llm_decision"]
    assert len(decisions) == 2
    for d in decisions:
        assert d["provider"] == "openai" and d["tokens_in"] > 100 and d["tokens_out"] > 5
        assert d["reason_code"] in {"ok", "schema_violation", "truncated"}, d["detail"]
        if d["reason_code"] != "truncated":
            json.loads(d["raw"])  # the server's grammar (JSON mode + schema) gives JSON
    assert live.strategies["llm"].stats["llm_calls"] == 2
    stats = result_json(replay)["strategies"]["llm"]["stats"]
    assert stats["llm_calls"] == 0 and stats["cache_hits"] == 2
    assert replay.journal_path is not None and replay.journal_path.read_bytes() == live_bytes
    assert offline.strategies["llm"].stats["llm_calls"] == 0


@pytest.mark.slow
def test_llama_cpp_server_rejects_json_schema_and_takes_json_mode(llama_server: str) -> None:
    p = make_provider("openai", "gemma3-270m", base_url=llama_server, api_key_env="", timeout=600)
    assert isinstance(p, OpenAIProvider) and p.mode == "auto"

    resp = asyncio.run(
        p.complete(LlmRequest("Reply in JSON.", "SPX rose 2% today.", decision_schema()))
    )

    assert p.mode == "json_object"  # what the capability probe found
    assert resp.tokens_in > 10 and resp.text
    if not resp.truncated:
        data = json.loads(resp.text)
        assert set(data) == set(decision_schema()["properties"])
