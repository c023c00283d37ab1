"""The Ollama and Anthropic adapters against their wire formats, through the official clients."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest

from papertape.engine.errors import ModelError
from papertape.plugins.llm.providers import AnthropicProvider, OllamaProvider, OpenAIProvider
from papertape.plugins.llm.providers.base import LlmRequest, LoopBoundProvider, prefix_price
from papertape.plugins.llm.schema import ReasonCode, decision_schema, parse_decision
from tests.plugins.llm.conftest import Reply, WireServer, body, decision_json, ollama_reply

SECRET = "sk-ant-test-0123456789-secret"


def request(**kw: Any) -> LlmRequest:
    base: dict[str, Any] = {
        "system": "persona",
        "prompt": "market context",
        "schema": decision_schema(),
        "schema_name": "trade_decision",
        "temperature": 0.2,
        "seed": 42,
        "max_tokens": 300,
    }
    base.update(kw)
    return LlmRequest(**base)


def ask(provider: Any, req: LlmRequest | None = None) -> Any:
    return asyncio.run(provider.complete(req or request()))


# --------------------------------------------------------------------------------------------
# Ollama
# --------------------------------------------------------------------------------------------


def test_ollama_sends_schema_temperature_and_seed_and_reads_the_answer(wire: WireServer) -> None:
    wire.on("/api/chat", Reply(200, body("ollama_chat.json")))

    resp = ask(OllamaProvider("llama3.2"))
    sent = wire.requests("/api/chat")[0].json

    assert sent["model"] == "llama3.2"
    assert sent["format"] == decision_schema()
    assert sent["options"]["temperature"] == 0.2 and sent["options"]["seed"] == 42
    assert sent["options"]["num_predict"] == 300
    assert sent["stream"] is False
    assert [m["role"] for m in sent["messages"]] == ["system", "user"]
    assert (resp.tokens_in, resp.tokens_out, resp.cost) == (612, 58, 0.0)
    parsed = parse_decision(resp.text, truncated=resp.truncated)
    assert parsed.code is ReasonCode.OK and parsed.decision is not None
    assert parsed.decision.stop_loss_pct == 5


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        (ollama_reply("Sure! I would buy here."), ReasonCode.MALFORMED_JSON),
        (ollama_reply('{"reasoning": "trend", "action": "BU', "length"), ReasonCode.TRUNCATED),
        (ollama_reply(decision_json(action="BUY", size=3.0)), ReasonCode.SCHEMA_VIOLATION),
        (ollama_reply(decision_json(confidence=1.5)), ReasonCode.SCHEMA_VIOLATION),
    ],
)
def test_ollama_bad_answers_are_classified(
    wire: WireServer,
    reply: Reply,
    code: ReasonCode,
) -> None:
    wire.on("/api/chat", reply)

    resp = ask(OllamaProvider("llama3.2"))

    assert parse_decision(resp.text, truncated=resp.truncated).code is code


@pytest.mark.parametrize(
    ("reply", "fragment"),
    [
        (Reply(404, body("ollama_error.json")), "HTTP 404"),
        (Reply(500, {"error": "llama runner process has terminated"}), "HTTP 500"),
        (Reply(200, raw=b"<html>proxy error</html>"), "ollama"),
    ],
)
def test_ollama_failures_raise_model_error(wire: WireServer, reply: Reply, fragment: str) -> None:
    wire.on("/api/chat", reply)

    with pytest.raises(ModelError, match=fragment):
        ask(OllamaProvider("llama3.2"))


def test_ollama_unreachable_and_slow_servers(wire: WireServer) -> None:
    wire.on("/api/chat", Reply(200, body("ollama_chat.json"), delay=2.0))

    with pytest.raises(ModelError, match="ollama"):
        ask(OllamaProvider("llama3.2", host="http://127.0.0.1:9"))  # nothing listens on port 9
    with pytest.raises(TimeoutError):
        ask(OllamaProvider("llama3.2", timeout=0.3))


# --------------------------------------------------------------------------------------------
# Anthropic
# --------------------------------------------------------------------------------------------


def anthropic(**kw: Any) -> AnthropicProvider:
    return AnthropicProvider("claude-haiku-4-5", max_retries=0, **kw)


def tool_reply(input_: Any, stop: str = "tool_use", **usage: int) -> Reply:
    payload = body("anthropic_tool_use.json")
    payload["content"][0]["input"] = input_
    payload["stop_reason"] = stop
    payload["usage"].update(usage)
    return Reply(200, payload)


def test_anthropic_strict_tool_use_request_and_priced_answer(wire: WireServer) -> None:
    wire.on("/v1/messages", Reply(200, body("anthropic_tool_use.json")))

    resp = ask(anthropic(base_url=wire.url))
    seen = wire.requests("/v1/messages")[0]
    sent = seen.json

    # the SDK sends the key from ANTHROPIC_API_KEY (as x-api-key or, from SDK 2.x, a bearer token)
    assert SECRET in (seen.headers.get("x-api-key"), seen.headers.get("authorization", "")[7:])
    assert "anthropic-version" in seen.headers
    assert sent["model"] == "claude-haiku-4-5" and sent["max_tokens"] == 300
    assert sent["system"] == "persona"
    assert sent["tool_choice"] == {"type": "tool", "name": "trade_decision"}
    tool = sent["tools"][0]
    assert tool["name"] == "trade_decision" and tool["strict"] is True
    assert tool["input_schema"]["additionalProperties"] is False
    size = tool["input_schema"]["properties"]["size"]
    assert "maximum" not in size and "maximum: 1" in size["description"]  # moved, not lost
    assert "temperature" not in sent  # removed from current Claude models and the SDK
    parsed = parse_decision(resp.text, truncated=resp.truncated)
    assert parsed.code is ReasonCode.OK and parsed.decision is not None
    assert parsed.decision.action.value == "CLOSE"
    assert (resp.tokens_in, resp.tokens_out) == (734, 96)
    assert resp.cost == pytest.approx((734 * 1.0 + 96 * 5.0) / 1e6)


def test_anthropic_refusal_truncation_and_ranges(wire: WireServer) -> None:
    valid = json.loads(decision_json(action="BUY", size=0.5))
    cases = [
        (tool_reply({**valid, "size": 2.5}), ReasonCode.SCHEMA_VIOLATION, False, False),
        (tool_reply({"reasoning": "The trend"}, "max_tokens"), ReasonCode.TRUNCATED, False, True),
    ]
    refusal = body("anthropic_tool_use.json")
    refusal["content"] = [{"type": "text", "text": "I can't help with that."}]
    refusal["stop_reason"] = "refusal"
    text_only = body("anthropic_tool_use.json")
    text_only["content"] = [{"type": "text", "text": "Buy, definitely."}]
    text_only["stop_reason"] = "end_turn"

    for reply, code, refused, truncated in cases:
        wire.on("/v1/messages", reply)
        resp = ask(anthropic(base_url=wire.url))
        assert (resp.refusal, resp.truncated) == (refused, truncated)
        assert parse_decision(resp.text, truncated=resp.truncated).code is code
    wire.on("/v1/messages", Reply(200, refusal))
    assert ask(anthropic(base_url=wire.url)).refusal is True
    wire.on("/v1/messages", Reply(200, text_only))
    resp = ask(anthropic(base_url=wire.url))
    assert parse_decision(resp.text).code is ReasonCode.MALFORMED_JSON


@pytest.mark.parametrize(
    ("reply", "fragment"),
    [
        (Reply(529, body("anthropic_error.json")), "HTTP 529: overloaded_error"),
        (
            Reply(
                401,
                {
                    "type": "error",
                    "error": {"type": "authentication_error", "message": "invalid x-api-key"},
                },
            ),
            "HTTP 401: authentication_error",
        ),
        (Reply(200, raw=b"{not json"), "anthropic"),
    ],
)
def test_anthropic_failures_raise_model_error_without_the_key(
    wire: WireServer,
    reply: Reply,
    fragment: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    wire.on("/v1/messages", reply)
    provider = anthropic(base_url=wire.url)

    with caplog.at_level(logging.DEBUG), pytest.raises(ModelError, match=fragment) as err:
        ask(provider)

    assert SECRET not in str(err.value)
    assert SECRET not in repr(provider)
    assert SECRET not in caplog.text


def test_anthropic_timeout_and_missing_key(
    wire: WireServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wire.on("/v1/messages", Reply(200, body("anthropic_tool_use.json"), delay=2.0))

    with pytest.raises(TimeoutError):
        ask(anthropic(base_url=wire.url, timeout=0.3))
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    with pytest.raises(ModelError, match="ANTHROPIC_API_KEY"):
        ask(anthropic(base_url=wire.url))


# --------------------------------------------------------------------------------------------
# Every SDK-backed provider: one client per event loop
# --------------------------------------------------------------------------------------------

OPENAI_KEY_ENV = "PAPERTAPE_TEST_OPENAI_KEY"


def _sdk_providers(wire: WireServer) -> list[LoopBoundProvider[Any]]:
    wire.on("/api/chat", Reply(200, body("ollama_chat.json")))
    wire.on("/v1/messages", Reply(200, body("anthropic_tool_use.json")))
    wire.on("/v1/chat/completions", Reply(200, body("openai_chat.json")))
    return [
        OllamaProvider("llama3.2"),
        anthropic(base_url=wire.url),
        OpenAIProvider("gpt-4.1-mini", base_url=f"{wire.url}/v1", api_key_env=OPENAI_KEY_ENV),
    ]


def test_each_event_loop_gets_its_own_client_and_aclose_closes_it(
    wire: WireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(OPENAI_KEY_ENV, "sk-test-openai")

    async def answer_twice(p: LoopBoundProvider[Any]) -> tuple[object, object]:
        await p.complete(request())
        first = p._client_for_loop()
        await p.complete(request())
        return first, p._client_for_loop()

    async def close(p: LoopBoundProvider[Any]) -> object:
        await p.aclose()
        return p._client

    for p in _sdk_providers(wire):
        a, a_again = asyncio.run(answer_twice(p))
        b, _ = asyncio.run(answer_twice(p))  # a new loop: the old pool cannot serve it

        assert a is a_again, p.name
        assert b is not a, p.name
        assert asyncio.run(close(p)) is None, p.name
    assert len(wire.requests("/api/chat")) == 4
    assert len(wire.requests("/v1/messages")) == 4
    assert len(wire.requests("/v1/chat/completions")) == 4


def test_prices_go_by_the_longest_model_name_prefix() -> None:
    table = {"gpt-4.1": (2.0, 8.0), "gpt-4.1-mini": (0.4, 1.6)}

    assert prefix_price(table, "gpt-4.1-mini-2025-04-14") == (0.4, 1.6)
    assert prefix_price(table, "gpt-4.1-2025-04-14") == (2.0, 8.0)
    assert prefix_price(table, "claude-haiku-4-5") is None
