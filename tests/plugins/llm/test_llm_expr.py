from __future__ import annotations

import math

import pytest

from papertape.engine.errors import ConfigError
from papertape.plugins.llm.generate.expr import compile_condition

NAMES = frozenset({"close", "open", "fast", "slow", "rsi"})


def env(**kw: float) -> dict[str, float]:
    return {"close": 100.0, "open": 99.0, "fast": 10.0, "slow": 9.0, "rsi": 50.0, **kw}


@pytest.mark.parametrize(
    ("text", "now", "expected"),
    [
        ("close > open", env(), True),
        ("close > open and rsi < 30", env(), False),
        ("rsi < 30 or close >= 100", env(), True),
        ("not (fast > slow)", env(), False),
        ("(close - open) / open * 100 > 0.5", env(), True),
        ("-rsi < -40", env(), True),
        ("abs(close - 110) > 5 and min(fast, slow) == 9 and max(fast, slow) != 9", env(), True),
        ("close / 0 > 1", env(), False),  # division by zero is NaN, not an exception
        ("rsi > 70", env(rsi=math.nan), False),  # warming-up indicators never fire
        ("rsi <= 70", env(rsi=math.nan), False),
        ("1.5e2 > close", env(), True),
    ],
)
def test_conditions_evaluate_like_arithmetic(
    text: str,
    now: dict[str, float],
    expected: bool,
) -> None:
    cond = compile_condition(text, NAMES)

    assert cond(now, None) is expected


def test_crosses_and_prev_look_one_bar_back() -> None:
    up = compile_condition("crosses_above(fast, slow)", NAMES)
    down = compile_condition("crosses_below(fast, slow)", NAMES)
    rising = compile_condition("close > prev(close)", NAMES)
    before, after = env(fast=8.0, slow=9.0), env(fast=10.0, slow=9.0)

    assert up(after, before) is True
    assert up(after, after) is False
    assert up(after, None) is False  # no previous bar: no cross
    assert down(before, after) is True
    assert rising(env(close=101.0), env(close=100.0)) is True
    assert rising(env(close=101.0), None) is False


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("__import__('os').system('true')", "unexpected character"),
        ("__import__(close) > 0", "unknown function"),
        ("close.__class__", "unexpected character"),
        ("eval(close) > 0", "unknown function"),
        ("open(close) > 0", "unknown function"),
        ("volume > 0", "unknown name"),
        ("close > 'x'", "unexpected character"),
        ("close + 1", "must be a condition"),
        ("close and rsi", "needs a condition"),
        ("not close", "needs a condition"),
        ("(close > open) + 1 > 0", "needs a number"),
        ("0 < rsi < 30", "chained comparisons"),
        ("close > ", "ends early"),
        ("close > open open", "unexpected"),
        ("crosses_above(fast) ", "takes 2 argument"),
        ("close > open; import os", "unexpected character"),
        ("(" * 40 + "close > open" + ")" * 40, "deeper"),
        ("close > open and " * 40 + "close > 0", "longer than"),
        ("", "empty"),
    ],
)
def test_anything_but_the_small_language_is_rejected(text: str, why: str) -> None:
    with pytest.raises(ConfigError) as err:
        compile_condition(text, NAMES, "spec.entry")

    assert err.value.key == "spec.entry"
    assert why in str(err.value)
