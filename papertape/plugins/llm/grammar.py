"""GBNF grammars that make a valid-looking answer an in-range answer.

llama.cpp's JSON-schema converter enforces shape but not numeric ranges (GBNF has no notion of
"a decimal at most 50"), so a small model could write ``"size": 3.5`` — valid JSON that the
decision validation then has to turn into a hold. Ranges from ``0`` up to a whole-number
maximum *can* be written as grammar, digit by digit: :func:`bounded_number` does that, and
:func:`bound_ranges` swaps such rules into the converter's output for every bounded property of
a schema. :func:`decision_continuation` writes the grammar of a decision continued after
``{"action": "`` (the few-shot completion format of :mod:`plugins.llm.fewshot`), one
alternative per allowed action, with trades sized in ``[0.1, 1]`` and holds sized ``0``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "DECIMALS",
    "bound_ranges",
    "bounded_number",
    "decision_continuation",
    "numeric_bounds",
]

DECIMALS = "[0-9] ([0-9] ([0-9] ([0-9])?)?)?"  # at most four decimal digits
_CHAR = r'[^"\\\x7F\x00-\x1F]'  # a JSON string character without escapes or control chars


def _lit(text: str) -> str:
    return json.dumps(text)


def _integers_upto(m: int) -> list[str]:
    """GBNF alternatives for the integers ``0..m`` without leading zeros."""
    s = str(m)
    k = len(s)
    if k == 1:
        return ['"0"'] if m == 0 else [f"[0-{s}]"]
    alts = ["[0-9]"] + ["[1-9]" + " [0-9]" * (j - 1) for j in range(2, k)]
    for i in range(k):
        lo = 1 if i == 0 else 0
        d = int(s[i])
        head = f"{_lit(s[:i])} " if i else ""
        if i < k - 1:
            if d - 1 >= lo:
                alts.append(f"{head}[{lo}-{d - 1}]" + " [0-9]" * (k - i - 1))
        else:
            alts.append(f"{head}[{lo}-{d}]")
    return alts


def bounded_number(maximum: float) -> str:
    """The GBNF body of a decimal in ``[0, maximum]`` (at most four decimals, no exponent).

    Args:
        maximum: A whole number >= 1 (the schemas' ranges: 1, 50, 500).

    Raises:
        ValueError: For a maximum this construction does not cover.
    """
    top = int(maximum)
    if top != maximum or top < 1:
        raise ValueError(f"bounded_number needs a whole maximum >= 1, got {maximum!r}")
    below = " | ".join(f"({alt})" for alt in _integers_upto(top - 1))
    return f'({below}) ("." {DECIMALS})? | {_lit(str(top))} ("." "0" ("0" ("0" ("0")?)?)?)?'


def numeric_bounds(prop: Mapping[str, Any]) -> tuple[float, float] | None:
    """``(minimum, maximum)`` of a number property (also inside ``anyOf``), else None."""
    for option in [prop, *prop.get("anyOf", [])]:
        if option.get("type") == "number" and "minimum" in option and "maximum" in option:
            return float(option["minimum"]), float(option["maximum"])
    return None


def bound_ranges(gbnf: str, schema: Mapping[str, Any]) -> str:
    """Replace ``number`` by a bounded rule for each ``[0, whole]`` property of ``schema``.

    The converter names a property's rules after it (``stop_loss_pct`` gives
    ``stop-loss-pct-kv`` and, when nullable, ``stop-loss-pct``); the ``number`` reference in
    those rules is what gets bounded. Other ranges are left to validation.
    """
    extra: list[str] = []
    lines = gbnf.splitlines()
    for name, prop in schema.get("properties", {}).items():
        bounds = numeric_bounds(prop)
        if bounds is None or bounds[0] != 0.0 or bounds[1] < 1 or bounds[1] != int(bounds[1]):
            continue
        rule = name.replace("_", "-")
        bounded = f"{rule}-bounded"
        for i, line in enumerate(lines):
            head, sep, body = line.partition(" ::= ")
            if sep and head in (rule, f"{rule}-kv"):
                tokens = [
                    "(" + bounded + " space)" if t == "number" else t for t in body.split(" ")
                ]
                lines[i] = f"{head} ::= {' '.join(tokens)}"
        extra.append(f"{bounded} ::= {bounded_number(bounds[1])}")
    return "\n".join(lines + extra) + "\n"


def _max_of(schema: Mapping[str, Any], name: str, default: float) -> float:
    prop = schema.get("properties", {}).get(name)
    bounds = numeric_bounds(prop) if isinstance(prop, Mapping) else None
    return bounds[1] if bounds is not None else default


def decision_continuation(
    schema: Mapping[str, Any],
    actions: Sequence[str],
    *,
    with_confidence: bool,
    max_reasoning: int = 160,
) -> str:
    """Grammar of a decision continued after ``{"action": "``, one branch per action.

    A BUY or SELL gets a size in ``[0.1, 1]`` and bounded stop and target; a HOLD or CLOSE
    gets ``size 0`` and no exits (nothing to size). The reasoning ends the object, capped at
    ``max_reasoning`` plain characters.

    Args:
        schema: The decision schema (for the stop and target maxima).
        actions: The allowed actions, e.g. ``["BUY", "HOLD"]``.
        with_confidence: Let the model write a confidence in ``[0, 1]`` (else it is omitted
            and filled in by the caller).
        max_reasoning: Characters of reasoning at most.
    """
    conf = ' ", \\"confidence\\": " unit' if with_confidence else ""
    reasoning = f'", \\"reasoning\\": \\"" {_CHAR}{{0,{max_reasoning}}} "\\"}}"'
    trade = (
        '", \\"size\\": " size ", \\"stop_loss_pct\\": " stop '
        f'", \\"take_profit_pct\\": " target{conf} {reasoning}'
    )
    idle = (
        '", \\"size\\": 0, \\"stop_loss_pct\\": null, \\"take_profit_pct\\": null"'
        f"{conf} {reasoning}"
    )
    branches = []
    for action in actions:
        body = trade if action in ("BUY", "SELL") else idle
        branches.append(f"{_lit(action + chr(34))} {body}")
    rules = [
        "root ::= " + " | ".join(f"({b})" for b in branches),
        'size ::= "0." [1-9] [0-9]? | "1" (".0")?',
        f"unit ::= {bounded_number(1)}",
        f"stop ::= {bounded_number(_max_of(schema, 'stop_loss_pct', 50))}",
        f"target ::= {bounded_number(_max_of(schema, 'take_profit_pct', 500))}",
    ]
    return "\n".join(rules) + "\n"
