"""The rule-strategy specification an LLM writes, and its validation.

A spec is plain JSON: named indicators, an entry and an exit condition in the safe expression
language of :mod:`plugins.llm.generate.expr`, a stop, a target and a size. :func:`validate_spec`
checks the shape (pydantic), the indicator parameters and the conditions (syntax, names, types)
and returns the compiled strategy pieces, or raises one :class:`~engine.errors.ConfigError`
naming the offending key; nothing in a spec is ever executed as code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from papertape.engine.errors import ConfigError
from papertape.engine.indicators import ADX, ATR, EMA, MACD, RSI, SMA, BollingerBands, ZScore
from papertape.plugins.llm.generate.expr import MAX_LENGTH, Condition, compile_condition

__all__ = [
    "BAR_FIELDS",
    "INDICATOR_KINDS",
    "CompiledSpec",
    "IndicatorSpec",
    "StrategySpec",
    "spec_schema",
    "validate_spec",
]

BAR_FIELDS = ("open", "high", "low", "close", "volume")
IndicatorKind = Literal[
    "sma",
    "ema",
    "rsi",
    "atr",
    "adx",
    "zscore",
    "bb_upper",
    "bb_lower",
    "macd",
    "macd_signal",
]
INDICATOR_KINDS: dict[str, str] = {
    "sma": "simple moving average of close over period",
    "ema": "exponential moving average of close over period",
    "rsi": "Wilder RSI (0-100) of close over period",
    "atr": "average true range over period (price units)",
    "adx": "ADX trend strength (0-100) over period",
    "zscore": "z-score of close over period",
    "bb_upper": "upper Bollinger band (period, 2 standard deviations)",
    "bb_lower": "lower Bollinger band (period, 2 standard deviations)",
    "macd": "MACD line (12/26 EMAs; period is ignored)",
    "macd_signal": "MACD signal line (9-EMA of the MACD line; period is ignored)",
}
_IDENT = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


class IndicatorSpec(BaseModel):
    """One named indicator the conditions may refer to."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=_IDENT.pattern)
    kind: IndicatorKind
    period: int = Field(ge=2, le=400)


class StrategySpec(BaseModel):
    """A long-or-short rule strategy: enter when ``entry`` holds, leave when ``exit`` holds."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    name: str = Field(pattern=_IDENT.pattern)
    description: str = Field(max_length=400)
    side: Literal["long", "short"]
    indicators: list[IndicatorSpec] = Field(min_length=1, max_length=8)
    entry: str = Field(min_length=1, max_length=MAX_LENGTH)
    exit: str = Field(min_length=1, max_length=MAX_LENGTH)
    stop_loss_pct: float | None = Field(ge=0.0, le=50.0)  # 0 or None: no stop
    take_profit_pct: float | None = Field(ge=0.0, le=500.0)  # 0 or None: no target
    size: float = Field(gt=0.0, le=1.0)


def spec_schema() -> dict[str, Any]:
    """The JSON schema sent to the model (all keys required, nothing extra)."""
    nullable_pct = {"anyOf": [{"type": "number"}, {"type": "null"}]}
    return {
        "type": "object",
        "properties": {
            "name": {"type": "string", "maxLength": 32, "description": "snake_case identifier"},
            "description": {"type": "string", "maxLength": 300},
            "side": {"type": "string", "enum": ["long", "short"]},
            "indicators": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "maxLength": 32},
                        "kind": {"type": "string", "enum": list(INDICATOR_KINDS)},
                        "period": {"type": "integer", "minimum": 2, "maximum": 400},
                    },
                    "required": ["name", "kind", "period"],
                    "additionalProperties": False,
                },
                "minItems": 1,
                "maxItems": 4,
            },
            "entry": {"type": "string", "maxLength": MAX_LENGTH},
            "exit": {"type": "string", "maxLength": MAX_LENGTH},
            "stop_loss_pct": nullable_pct,
            "take_profit_pct": nullable_pct,
            "size": {"type": "number", "minimum": 0, "maximum": 1},
        },
        "required": [
            "name",
            "description",
            "side",
            "indicators",
            "entry",
            "exit",
            "stop_loss_pct",
            "take_profit_pct",
            "size",
        ],
        "additionalProperties": False,
    }


Updater = Callable[[float, float, float], float]


def _updater(kind: str, period: int) -> Updater:
    """A function (high, low, close) -> indicator value, backed by an incremental indicator."""
    if kind in ("sma", "ema", "rsi", "zscore"):
        one: SMA | EMA | RSI | ZScore = (
            SMA(period)
            if kind == "sma"
            else EMA(period)
            if kind == "ema"
            else RSI(period)
            if kind == "rsi"
            else ZScore(period)
        )
        return lambda h, lo, c: one.update(c)
    if kind in ("atr", "adx"):
        three = ATR(period) if kind == "atr" else ADX(period)
        return lambda h, lo, c: three.update(h, lo, c)
    if kind in ("bb_upper", "bb_lower"):
        bands = BollingerBands(period, 2.0)

        def band(h: float, lo: float, c: float) -> float:
            bands.update(c)
            return bands.upper if kind == "bb_upper" else bands.lower

        return band
    macd = MACD()

    def line(h: float, lo: float, c: float) -> float:
        macd.update(c)
        return macd.value if kind == "macd" else macd.signal

    return line


@dataclass(frozen=True, slots=True)
class CompiledSpec:
    """A validated spec with its compiled conditions."""

    spec: StrategySpec
    entry: Condition
    exit: Condition

    def updaters(self) -> dict[str, Updater]:
        """Fresh indicator state, by indicator name (one set per symbol)."""
        return {i.name: _updater(i.kind, i.period) for i in self.spec.indicators}

    @property
    def warmup(self) -> int:
        """Bars before every indicator can have a value."""
        return max(35 if i.kind.startswith("macd") else 2 * i.period for i in self.spec.indicators)


def validate_spec(data: dict[str, Any] | str) -> CompiledSpec:
    """Validate a spec (a dict or its JSON text) completely.

    Raises:
        ConfigError: Malformed JSON, a schema violation, a clashing name or a bad condition,
            naming the key.
    """
    obj: Any = data
    if isinstance(data, str):
        try:
            obj = json.loads(data)
        except ValueError as exc:
            raise ConfigError("spec", data[:80], f"not JSON: {exc}") from None
    try:
        spec = StrategySpec.model_validate(obj)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "spec"
        raise ConfigError(f"spec.{key}", err.get("input"), err["msg"]) from None
    names = [i.name for i in spec.indicators]
    clash = sorted({n for n in names if names.count(n) > 1 or n in BAR_FIELDS})
    if clash:
        why = "indicator names must be unique and not bar fields"
        raise ConfigError("spec.indicators", clash, why)
    known = frozenset((*BAR_FIELDS, *names))
    entry = compile_condition(spec.entry, known, "spec.entry")
    exit_ = compile_condition(spec.exit, known, "spec.exit")
    return CompiledSpec(spec, entry, exit_)
