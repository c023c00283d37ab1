from __future__ import annotations

import json

import pytest

import papertape.plugins.llm.generate  # noqa: F401  (loads the subpackage)
from papertape import plugins
from papertape.plugins.llm.schema import (
    MAX_REASONING,
    Action,
    ReasonCode,
    TradeDecision,
    decision_schema,
    parse_decision,
)
from tests.plugins.llm.conftest import decision_json


def test_valid_decision_parses_to_typed_fields() -> None:
    text = decision_json(
        action="BUY",
        size=0.4,
        confidence=0.8,
        stop_loss_pct=5,
        take_profit_pct=10,
    )

    parsed = parse_decision(text)

    assert parsed.code is ReasonCode.OK
    assert parsed.decision is not None
    assert parsed.decision.action is Action.BUY
    assert parsed.decision.size == 0.4
    assert parsed.decision.stop_loss_pct == 5.0


def test_code_fence_around_json_is_accepted() -> None:
    parsed = parse_decision("```json\n" + decision_json(action="CLOSE") + "\n```")

    assert parsed.code is ReasonCode.OK
    assert parsed.decision is not None and parsed.decision.action is Action.CLOSE


@pytest.mark.parametrize(
    ("text", "truncated", "code"),
    [
        ("I think you should buy.", False, ReasonCode.MALFORMED_JSON),
        ('{"reasoning": "up", "action": "BUY", "size": 0.5', False, ReasonCode.MALFORMED_JSON),
        ('{"reasoning": "up", "action": "BUY", "size": 0.5', True, ReasonCode.TRUNCATED),
        (
            '{"reasoning": "x", "action": "BUY", "size": NaN, "confidence": 1,'
            ' "stop_loss_pct": null, "take_profit_pct": null}',
            False,
            ReasonCode.MALFORMED_JSON,
        ),
        ("[1, 2, 3]", False, ReasonCode.SCHEMA_VIOLATION),
        (decision_json(size=1.7, action="BUY"), False, ReasonCode.SCHEMA_VIOLATION),
        (decision_json(confidence=-0.1), False, ReasonCode.SCHEMA_VIOLATION),
        (decision_json(stop_loss_pct=80), False, ReasonCode.SCHEMA_VIOLATION),
        (decision_json(action="YOLO"), False, ReasonCode.SCHEMA_VIOLATION),
        (decision_json(action="BUY", size=0), False, ReasonCode.SCHEMA_VIOLATION),
        (decision_json(size="0.5"), False, ReasonCode.SCHEMA_VIOLATION),
        (decision_json(leverage=5), False, ReasonCode.SCHEMA_VIOLATION),
        (decision_json(reasoning="x" * (MAX_REASONING + 1)), False, ReasonCode.SCHEMA_VIOLATION),
    ],
)
def test_bad_output_gets_an_explicit_reason_code(
    text: str,
    truncated: bool,
    code: ReasonCode,
) -> None:
    parsed = parse_decision(text, truncated=truncated)

    assert parsed.decision is None
    assert parsed.code is code
    assert parsed.detail


def test_missing_field_is_a_schema_violation_naming_the_field() -> None:
    data = json.loads(decision_json())
    del data["confidence"]

    parsed = parse_decision(json.dumps(data))

    assert parsed.code is ReasonCode.SCHEMA_VIOLATION
    assert "confidence" in parsed.detail


def test_schema_sent_to_providers_matches_the_model() -> None:
    schema = decision_schema()

    assert list(schema["properties"]) == list(TradeDecision.model_fields)
    assert set(schema["required"]) == set(TradeDecision.model_fields)
    assert schema["additionalProperties"] is False
    assert schema["properties"]["action"]["enum"] == [a.value for a in Action]
    assert next(iter(schema["properties"])) == "reasoning"  # explain before committing


@pytest.mark.parametrize("module", [plugins.llm, plugins.llm.generate])
def test_public_api_is_exported(module: object) -> None:
    names = module.__all__  # type: ignore[attr-defined]

    assert len(names) == len(set(names))
    for name in names:
        assert hasattr(module, name), name
    assert "LlmTrader" in plugins.llm.__all__
    assert "generate_strategy" in plugins.llm.generate.__all__
