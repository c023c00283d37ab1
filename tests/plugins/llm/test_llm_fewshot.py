"""The base-model decoder: few-shot completion, calibrated action scores, bounded answers."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from papertape.plugins.llm.fewshot import (
    DECISION_OPENER,
    allowed_actions,
    completion_header,
    restrict_actions,
)
from papertape.plugins.llm.prompt import PromptSettings
from papertape.plugins.llm.providers import FewShotLocalProvider, make_provider
from papertape.plugins.llm.providers.base import LlmRequest
from papertape.plugins.llm.providers.local_fewshot import calibrate
from papertape.plugins.llm.schema import ReasonCode, decision_schema, parse_decision
from tests.plugins.llm.conftest import run_llm, trader

CONTEXT = (
    "Context: price 1395.07; 20-bar return +2.1%; RSI14 57; vs SMA50 +1.4%; vs SMA200 +5.0%; "
    f"volatility 14%; position: none\nDecision: {DECISION_OPENER}"
)


def test_calibration_removes_the_models_standing_preference() -> None:
    probs = {"BUY": 0.8, "HOLD": 0.2}  # looks like a BUY ...
    prior = {"BUY": 0.9, "HOLD": 0.1}  # ... but the model says BUY to anything

    out = calibrate(probs, prior)

    assert out["HOLD"] > out["BUY"]
    assert out["HOLD"] == pytest.approx((0.2 / 0.1) / (0.2 / 0.1 + 0.8 / 0.9))
    assert sum(out.values()) == pytest.approx(1.0)


def test_only_actions_that_change_something_are_offered() -> None:
    assert allowed_actions(0.0, allow_short=False) == ["BUY", "HOLD"]
    assert allowed_actions(2.0, allow_short=False) == ["HOLD", "CLOSE"]
    assert allowed_actions(0.0, allow_short=True) == ["BUY", "SELL", "HOLD"]
    assert allowed_actions(-1.0, allow_short=True) == ["BUY", "HOLD", "CLOSE"]
    schema = restrict_actions(decision_schema(), ["HOLD", "CLOSE"])
    assert schema["properties"]["action"]["enum"] == ["HOLD", "CLOSE"]
    assert decision_schema()["properties"]["action"]["enum"] == ["BUY", "SELL", "HOLD", "CLOSE"]


def test_the_few_shot_examples_are_valid_decisions() -> None:
    for allow_short in (False, True):
        header = completion_header(PromptSettings(allow_short=allow_short))
        lines = [ln for ln in header.splitlines() if ln.startswith("Decision: ")]
        assert len(lines) >= 6
        actions = set()
        for line in lines:
            parsed = parse_decision(
                line.removeprefix("Decision: ").replace("}", ', "confidence": 0.6}')
            )
            assert parsed.code is ReasonCode.OK, parsed.detail
            assert parsed.decision is not None
            actions.add(parsed.decision.action.value)
        assert actions == (
            {"BUY", "HOLD", "CLOSE", "SELL"} if allow_short else {"BUY", "HOLD", "CLOSE"}
        )


def test_auto_decode_picks_the_calibrated_decoder_for_the_packaged_base_model() -> None:
    assert isinstance(make_provider("local", decode="calibrated"), FewShotLocalProvider)
    assert type(make_provider("local", decode="chat")).__name__ == "LocalProvider"
    one = make_provider("local", decode="calibrated").identity()
    two = make_provider("local", decode="fewshot").identity()
    assert one["decode"] == "calibrated" and two["decode"] == "fewshot"  # distinct cache keys


@pytest.mark.slow
@pytest.mark.parametrize("decode", ["calibrated", "fewshot"])
@pytest.mark.parametrize("actions", [["BUY", "HOLD"], ["HOLD", "CLOSE"]])
def test_the_local_base_model_answers_in_range_with_an_allowed_action(
    local_model: Any, decode: str, actions: list[str]
) -> None:
    header = completion_header(PromptSettings())
    schema = restrict_actions(decision_schema(), actions)
    provider = FewShotLocalProvider(decode=decode)

    resp = asyncio.run(provider.complete(LlmRequest(header, CONTEXT, schema)))

    parsed = parse_decision(resp.text, truncated=resp.truncated)
    assert parsed.code is ReasonCode.OK, (parsed.detail, resp.text)
    assert parsed.decision is not None and parsed.decision.action.value in actions
    assert resp.text.startswith(DECISION_OPENER) and resp.tokens_in > 100
    if decode == "calibrated":  # the confidence is the calibrated probability of the action
        assert 1.0 / len(actions) <= parsed.decision.confidence <= 1.0


@pytest.mark.slow
def test_the_local_trader_opens_and_closes_positions(
    local_model: Any, sp500_slice: Any, tmp_path: Path
) -> None:
    """The defect: the chat decoder never opened a position on the packaged base model."""
    data = sp500_slice(400)
    entry = trader("llm", every=50, warmup=50, timeout=600.0, cache_dir=str(tmp_path / "c"))

    result, records = run_llm(data, tmp_path / "j", entry)

    decisions = [r for r in records if r["kind"] == "llm_decision"]
    assert len(decisions) >= 7 and all(d["reason_code"] == "ok" for d in decisions)
    assert {d["action"] for d in decisions} >= {"BUY"}
    assert len({json.loads(d["raw"])["confidence"] for d in decisions}) > 1  # not a constant
    fills = [r for r in records if r["kind"] == "fill"]
    assert len(fills) >= 2  # an entry and its exit
    assert result.strategies["llm"].stats["actions"].get("BUY", 0) >= 1
    assert len(result.strategies["llm"].trades) >= 1
