"""The typed trading decision an LLM must return, its JSON schema and its validation.

The same schema is sent to every provider (llama.cpp grammar, Ollama ``format=``, Anthropic
strict tool use, whose SDK moves range limits into descriptions), and the provider's output is
validated again here, because constrained decoding guarantees shape at best, never sense: a
truncated generation, a refusal or an out-of-range number must surface as an explicit reason
code, never as a silent default.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

__all__ = [
    "BUDGET_CODES",
    "INVALID_CODES",
    "MAX_REASONING",
    "Action",
    "ParsedDecision",
    "ReasonCode",
    "TradeDecision",
    "decision_schema",
    "parse_decision",
]

MAX_REASONING = 400


class Action(enum.StrEnum):
    """What the trader wants to do with the symbol it was asked about."""

    BUY = "BUY"  # go (or stay) long
    SELL = "SELL"  # go short when shorting is allowed, otherwise close a long
    HOLD = "HOLD"  # do nothing
    CLOSE = "CLOSE"  # close any position


class ReasonCode(enum.StrEnum):
    """Why a decision ended the way it did; every HOLD the trader forces carries one."""

    OK = "ok"
    MALFORMED_JSON = "malformed_json"
    TRUNCATED = "truncated"
    SCHEMA_VIOLATION = "schema_violation"
    REFUSAL = "refusal"
    TIMEOUT = "timeout"
    PROVIDER_ERROR = "provider_error"
    CACHE_MISS = "cache_miss"
    BUDGET_CALLS = "budget_calls"
    BUDGET_TOKENS = "budget_tokens"
    BUDGET_COST = "budget_cost"
    LOW_CONFIDENCE = "low_confidence"  # valid, but less confident than min_confidence
    RULE_BASED = "rule_based"  # every model was down; a rule decided (the switcher)


INVALID_CODES = frozenset(
    {
        ReasonCode.MALFORMED_JSON,
        ReasonCode.TRUNCATED,
        ReasonCode.SCHEMA_VIOLATION,
        ReasonCode.REFUSAL,
        ReasonCode.TIMEOUT,
        ReasonCode.PROVIDER_ERROR,
        ReasonCode.CACHE_MISS,
    }
)
BUDGET_CODES = frozenset(
    {ReasonCode.BUDGET_CALLS, ReasonCode.BUDGET_TOKENS, ReasonCode.BUDGET_COST}
)


class TradeDecision(BaseModel):
    """One decision of an LLM trader.

    Attributes:
        reasoning: Why, in a few sentences (journaled; shown back for self-reflection).
        action: BUY, SELL, HOLD or CLOSE.
        size: Position size as a fraction of equity (0–1); must be > 0 for BUY and SELL.
        confidence: The model's confidence, 0–1 (journaled, not acted upon).
        stop_loss_pct: Stop-loss distance from the current price in percent (0 or None: none).
        take_profit_pct: Take-profit distance from the current price in percent (0 or None: none).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    reasoning: str = Field(max_length=MAX_REASONING)
    action: Action
    size: float = Field(ge=0.0, le=1.0)
    confidence: float = Field(ge=0.0, le=1.0)
    stop_loss_pct: float | None = Field(default=None, ge=0.0, le=50.0)
    take_profit_pct: float | None = Field(default=None, ge=0.0, le=500.0)

    @model_validator(mode="after")
    def _sized_when_trading(self) -> TradeDecision:
        if self.action in (Action.BUY, Action.SELL) and self.size <= 0.0:
            raise ValueError(f"{self.action.value} needs size > 0 (a fraction of equity)")
        return self


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def decision_schema() -> dict[str, Any]:
    """The JSON schema every provider is asked to follow (all keys required, no extras).

    Property order is generation order: the reasoning comes first, so a model explains itself
    before it commits to an action.
    """
    return {
        "type": "object",
        "properties": {
            "reasoning": {
                "type": "string",
                "maxLength": MAX_REASONING,
                "description": "Why, in one to three short sentences.",
            },
            "action": {"type": "string", "enum": [a.value for a in Action]},
            "size": {
                "type": "number",
                "minimum": 0,
                "maximum": 1,
                "description": "Fraction of equity for BUY/SELL (e.g. 0.5); 0 for HOLD/CLOSE.",
            },
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "stop_loss_pct": _nullable(
                {
                    "type": "number",
                    "minimum": 0,
                    "maximum": 50,
                    "description": "Percent from the price; 0 or null for no stop-loss.",
                }
            ),
            "take_profit_pct": _nullable(
                {
                    "type": "number",
                    "minimum": 0,
                    "maximum": 500,
                    "description": "Percent from the price; 0 or null for no take-profit.",
                }
            ),
        },
        "required": [
            "reasoning",
            "action",
            "size",
            "confidence",
            "stop_loss_pct",
            "take_profit_pct",
        ],
        "additionalProperties": False,
    }


@dataclass(frozen=True, slots=True)
class ParsedDecision:
    """The outcome of validating one raw response.

    Attributes:
        decision: The validated decision, or None when the response was rejected.
        code: ``ok`` or why it was rejected.
        detail: A short human-readable explanation of a rejection.
    """

    decision: TradeDecision | None
    code: ReasonCode
    detail: str = ""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name} is not JSON")


def _unfence(text: str) -> str:
    body = text.strip()
    if body.startswith("```") and body.endswith("```") and len(body) >= 6:
        body = body[3:-3]
        if body.startswith("json"):
            body = body[4:]
    return body.strip()


def parse_decision(text: str, *, truncated: bool = False) -> ParsedDecision:
    """Validate a provider's raw output as a :class:`TradeDecision`.

    Exactly one JSON object is accepted (optionally in a Markdown code fence). Unparseable
    text is ``malformed_json`` (``truncated`` when the provider stopped at its token limit);
    parseable JSON that breaks the schema is ``schema_violation`` with the first error.

    Args:
        text: The raw structured output.
        truncated: True when the provider reported that it ran out of output tokens.

    Returns:
        The decision with ``ok``, or no decision with the reason code.
    """
    body = _unfence(text)
    try:
        obj = json.loads(body, parse_constant=_reject_constant)
    except ValueError as exc:
        code = ReasonCode.TRUNCATED if truncated else ReasonCode.MALFORMED_JSON
        return ParsedDecision(None, code, f"{type(exc).__name__}: {exc}"[:200])
    if not isinstance(obj, dict):
        return ParsedDecision(
            None, ReasonCode.SCHEMA_VIOLATION, f"expected a JSON object, got {type(obj).__name__}"
        )
    try:
        decision = TradeDecision.model_validate_json(body, strict=True)
    except ValidationError as exc:
        code = ReasonCode.TRUNCATED if truncated else ReasonCode.SCHEMA_VIOLATION
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "<root>"
        return ParsedDecision(None, code, f"{where}: {err['msg']}"[:200])
    return ParsedDecision(decision, ReasonCode.OK)
