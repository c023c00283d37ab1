from __future__ import annotations

import asyncio
import json
from pathlib import Path

from papertape.plugins.llm.budget import Budget, BudgetTracker, RateLimiter
from papertape.plugins.llm.cache import CacheEntry, ResponseCache, request_key
from papertape.plugins.llm.providers import make_provider
from papertape.plugins.llm.providers.base import LlmRequest
from papertape.plugins.llm.schema import ReasonCode, decision_schema


def req(**kw: object) -> LlmRequest:
    base: dict[str, object] = {"system": "sys", "prompt": "market", "schema": decision_schema()}
    base.update(kw)
    return LlmRequest(**base)  # type: ignore[arg-type]


def test_budget_holds_before_a_call_would_cross_it() -> None:
    calls = BudgetTracker(Budget(max_calls=2))
    tokens = BudgetTracker(Budget(max_tokens=1000))
    cost = BudgetTracker(Budget(max_cost=0.01))

    calls.charge(10, 10, 0.0)
    first = calls.check(100, 0.0)
    calls.charge(10, 10, 0.0)
    tokens.charge(600, 100, 0.0)
    cost.charge(0, 0, 0.009)

    assert first is None
    assert calls.check(100, 0.0) is ReasonCode.BUDGET_CALLS
    assert tokens.check(200, 0.0) is None
    assert tokens.check(400, 0.0) is ReasonCode.BUDGET_TOKENS
    assert cost.check(0, 0.002) is ReasonCode.BUDGET_COST
    assert BudgetTracker(Budget()).check(10**9, 10**6) is None  # 0 = unlimited


def test_rate_limiter_waits_for_the_window_on_a_fake_clock() -> None:
    now = [0.0]
    slept: list[float] = []

    async def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    limiter = RateLimiter(2, clock=lambda: now[0], sleep=sleep)

    async def three_calls() -> list[float]:
        waits = [await limiter.acquire()]
        now[0] += 10.0
        waits.append(await limiter.acquire())
        waits.append(await limiter.acquire())
        return waits

    waits = asyncio.run(three_calls())

    assert waits == [0.0, 0.0, 50.0]  # the first slot (t=0) frees at t=60; now is t=10
    assert slept == [50.0]
    assert asyncio.run(RateLimiter(0).acquire()) == 0.0


def test_cache_key_covers_what_changes_the_answer_and_nothing_else() -> None:
    ident = {"provider": "ollama", "model": "llama3.2"}
    key = request_key(ident, req())

    assert request_key(dict(ident), req()) == key
    assert request_key({**ident, "model": "qwen2.5"}, req()) != key
    assert request_key({**ident, "provider": "anthropic"}, req()) != key
    assert request_key(ident, req(prompt="market.")) != key
    assert request_key(ident, req(system="other persona")) != key
    assert request_key(ident, req(temperature=0.7)) != key
    assert request_key(ident, req(seed=1)) != key
    assert request_key(ident, req(max_tokens=100)) != key
    assert request_key(ident, req(schema={"type": "object"})) != key
    # host and timeout are not part of a request: the same question to another server hits
    a = make_provider("ollama", "llama3.2", host="http://a:1", timeout=1.0)
    b = make_provider("ollama", "llama3.2", host="http://b:2", timeout=9.0)
    assert request_key(a.identity(), req()) == request_key(b.identity(), req())


def test_cache_round_trips_entries_on_disk(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "c")
    ok = CacheEntry('{"a": 1}', 10, 5, 0.001, 1234.5, "stop")
    failed = CacheEntry("", latency_ms=30000.0, error_code="timeout", error="no answer")

    cache.put("ab" * 32, ok, {"prompt": "p"})
    cache.put("cd" * 32, failed)
    fresh = ResponseCache(tmp_path / "c")

    assert fresh.get("ab" * 32) == ok
    assert fresh.get("cd" * 32) == failed and failed.failed
    assert fresh.get("ef" * 32) is None
    assert len(fresh) == 2
    stored = json.loads((tmp_path / "c" / "ab" / f"{'ab' * 32}.json").read_text())
    assert stored["request"] == {"prompt": "p"}
    assert not list((tmp_path / "c").rglob(".tmp-*"))  # written by rename, nothing half-done
