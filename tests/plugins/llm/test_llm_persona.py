"""A persona means risk appetite on the calibrated decoder of the packaged base model.

The few-shot prompt of the base model has no room for a persona text, so the persona tilts the
calibrated action probabilities instead (:mod:`plugins.llm.appetite`): ``moderate`` asks
exactly what it asked before (same requests, same cache keys), ``conservative`` and
``aggressive`` ask with their tilt, which is part of the cache key.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from papertape.engine.errors import ConfigError
from papertape.engine.journal import read_journal
from papertape.engine.journal.replay.rerun import replay_run
from papertape.plugins.llm.appetite import APPETITE_FACTOR, persona_tilt, tilted
from papertape.plugins.llm.cache import ResponseCache, request_key
from papertape.plugins.llm.calls import flight_key
from papertape.plugins.llm.checks import unread_params
from papertape.plugins.llm.fewshot import DECISION_OPENER, completion_header, restrict_actions
from papertape.plugins.llm.prompt import PromptSettings
from papertape.plugins.llm.providers import FewShotLocalProvider
from papertape.plugins.llm.providers.base import LlmRequest
from papertape.plugins.llm.schema import decision_schema, parse_decision
from papertape.plugins.llm.trader import LlmTrader
from tests.plugins.llm.conftest import run_llm, trader

# A market where the packaged model hardly prefers BUY to HOLD (calibrated 0.50 / 0.50).
UNSURE = (
    "Context: price 1395.07; 20-bar return +2.1%; RSI14 57; vs SMA50 +1.4%; vs SMA200 +5.0%; "
    f"volatility 14%; position: none\nDecision: {DECISION_OPENER}"
)
# request_key of the moderate request below, computed before personas tilted anything: a
# moderate trader must keep hitting the answers cached by earlier versions.
MODERATE_KEY = "c7ebd33cfe7f35d20806dac9db76f85146e15808b67fb82d19d4ecffb646f399"


def _request(persona: str, actions: tuple[str, ...] = ("BUY", "HOLD")) -> LlmRequest:
    schema = restrict_actions(decision_schema(), list(actions))
    header = completion_header(PromptSettings())
    return LlmRequest(
        header, UNSURE, schema, "trade_decision", 0.0, 7, 256, tilt=persona_tilt(persona)
    )


def test_moderate_asks_exactly_what_it_asked_before() -> None:
    request = _request("moderate")

    assert persona_tilt("moderate") == ()
    assert request.params() == {"temperature": 0.0, "seed": 7, "max_tokens": 256}
    assert request_key(FewShotLocalProvider().identity(), request) == MODERATE_KEY


def test_the_persona_weighs_exposure_by_the_appetite_factor() -> None:
    conservative = dict(persona_tilt("conservative"))
    aggressive = dict(persona_tilt("aggressive"))

    # opening (BUY, SELL) is worth less to a conservative trader, exiting (CLOSE) more
    assert conservative == {
        "BUY": 1 / APPETITE_FACTOR,
        "SELL": 1 / APPETITE_FACTOR,
        "HOLD": 1.0,
        "CLOSE": APPETITE_FACTOR,
    }
    assert aggressive == {a: 1.0 / w for a, w in conservative.items()}  # the mirror image
    close_call = {"BUY": 0.52, "HOLD": 0.48}
    clear_call = {"HOLD": 0.30, "CLOSE": 0.70}
    assert max(tilted(close_call, ()), key=tilted(close_call, ()).get) == "BUY"
    cons, aggr = tilted(close_call, persona_tilt("conservative")), tilted(close_call, aggressive)
    assert max(cons, key=cons.get) == "HOLD" and max(aggr, key=aggr.get) == "BUY"
    assert sum(cons.values()) == pytest.approx(1.0)
    for persona in ("conservative", "aggressive"):  # a clear call is the model's either way
        out = tilted(clear_call, persona_tilt(persona))
        assert max(out, key=out.get) == "CLOSE"


def test_each_persona_has_its_own_cache_key_and_call_in_flight() -> None:
    identity = FewShotLocalProvider().identity()
    personas = ("conservative", "moderate", "aggressive")
    keys = {p: request_key(identity, _request(p)) for p in personas}
    cache = ResponseCache(None)

    assert len(set(keys.values())) == 3
    assert len({flight_key(cache, k) for k in keys.values()}) == 3  # never merged in flight
    assert _request("aggressive").params()["tilt"] == dict(persona_tilt("aggressive"))


def test_a_custom_system_prompt_is_refused_where_no_model_reads_it() -> None:
    with pytest.raises(ConfigError, match=r"params\.system_prompt"):
        LlmTrader(provider="local", system_prompt="You love tech stocks.")
    with pytest.raises(ConfigError, match=r"params\.persona"):
        LlmTrader(provider="local", decode="fewshot", persona="aggressive")
    # a chain whose first model reads it keeps it (the few-shot fallback says so when it answers)
    LlmTrader(system_prompt="You love tech stocks.", models=["ollama:llama3.2", "local"])
    LlmTrader(provider="local", decode="chat", system_prompt="You love tech stocks.")
    chained = LlmTrader(
        system_prompt="You love tech stocks.", persona="aggressive", models=["ollama:m", "local"]
    )
    assert unread_params(chained.p, "chat") == []
    assert unread_params(chained.p, "calibrated") == ["system_prompt"]  # said in the detail
    assert unread_params(chained.p, "fewshot") == ["system_prompt", "persona"]


@pytest.mark.slow
def test_personas_choose_differently_when_the_model_is_unsure(local_model: Any) -> None:
    provider = FewShotLocalProvider()
    probs = provider.action_probs(_request("moderate"))
    assert max(probs.values()) < APPETITE_FACTOR / (1 + APPETITE_FACTOR)  # a close call

    answers = {}
    for persona in ("moderate", "conservative", "aggressive"):
        resp = asyncio.run(provider.complete(_request(persona)))
        parsed = parse_decision(resp.text)
        assert parsed.decision is not None, resp.text
        answers[persona] = parsed.decision

    assert answers["moderate"].action.value == max(probs, key=lambda a: probs[a])
    assert answers["conservative"].action.value == "HOLD"
    assert answers["aggressive"].action.value == "BUY"
    for decision in answers.values():  # the confidence stays the model's calibrated belief
        assert decision.confidence == pytest.approx(probs[decision.action.value], abs=1e-4)


def _decisions(records: list[dict[str, Any]], sid: str) -> list[dict[str, Any]]:
    return [r for r in records if r["kind"] == "llm_decision" and r["strategy"] == sid]


@pytest.mark.slow
def test_personas_trade_differently_and_replay_exactly(
    local_model: Any, sp500_slice: Any, tmp_path: Path
) -> None:
    data = sp500_slice(330)
    cache = tmp_path / "cache"
    common = {"every": 40, "warmup": 50, "decide_on": "", "seed": 7, "timeout": 600.0}
    entries = [
        trader(p, persona=p, cache_dir=str(cache), **common)
        for p in ("conservative", "moderate", "aggressive")
    ]

    first, records = run_llm(data, tmp_path / "j1", *entries)
    again, replayed = run_llm(data, tmp_path / "j2", *entries)

    cons, mod, aggr = (_decisions(records, p) for p in ("conservative", "moderate", "aggressive"))
    assert len(cons) == len(aggr) == len(mod) >= 6
    assert [d["action"] for d in cons] != [d["action"] for d in aggr]
    assert {d["cache_key"] for d in cons}.isdisjoint(d["cache_key"] for d in aggr)
    assert all(d["params"]["tilt"] == dict(persona_tilt("conservative")) for d in cons)
    identity = FewShotLocalProvider().identity()
    for d in mod:  # moderate: the untilted request of before, under the key of before
        stored = json.loads(next(cache.glob(f"*/{d['cache_key']}.json")).read_text())["request"]
        flat = stored["prompt"].endswith(f"position: none\nDecision: {DECISION_OPENER}")
        actions = ["BUY", "HOLD"] if flat else ["HOLD", "CLOSE"]
        untilted = LlmRequest(
            stored["system"], stored["prompt"], restrict_actions(decision_schema(), actions),
            "trade_decision", 0.0, 7, 256,
        )  # fmt: skip
        assert "tilt" not in d["params"] and "tilt" not in stored["params"]
        assert request_key(identity, untilted) == d["cache_key"]
    # a cached re-run asks no model and journals the same records
    assert again.strategies["conservative"].stats["llm_calls"] == 0
    assert _decisions(replayed, "conservative") == cons
    assert _decisions(replayed, "aggressive") == aggr
    assert first.journal_path is not None
    exact = replay_run(first.journal_path.parent, out=tmp_path / "same")
    assert exact.exact and exact.journal.read_bytes() == first.journal_path.read_bytes()
    assert [r for r in read_journal(exact.journal) if r["kind"] == "fill"]
