"""Grammar-enforced ranges: a number the grammar admits is a number the schema admits."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from papertape.plugins.llm.grammar import bound_ranges, bounded_number, decision_continuation
from papertape.plugins.llm.schema import decision_schema

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\[[^\]]*\]|[()|?+*]|\s+')


def gbnf_to_regex(body: str) -> re.Pattern[str]:
    """Translate the small GBNF subset bounded_number emits (literals, classes, ( ) | ?)."""
    out = []
    for m in _TOKEN.finditer(body):
        tok = m.group(0)
        if tok.isspace():
            continue
        out.append(re.escape(json.loads(tok)) if tok.startswith('"') else tok)
    assert "".join(m.group(0) for m in _TOKEN.finditer(body)) == body  # nothing skipped
    return re.compile("".join(out))


@pytest.mark.parametrize("top", [1, 50, 500, 7, 100, 1234])
def test_bounded_number_admits_exactly_the_range(top: int) -> None:
    rx = gbnf_to_regex(bounded_number(top))

    for i in range(0, top + 3):
        assert bool(rx.fullmatch(str(i))) == (i <= top), i
    assert rx.fullmatch(f"{top}.0") and not rx.fullmatch(f"{top}.01")
    assert rx.fullmatch(f"{top - 1}.9999") and not rx.fullmatch(f"{top - 1}.99999")
    for bad in ("-1", "01", "1e3", "", ".5", "0.", "3.5e1", f"{top}0"):
        assert not rx.fullmatch(bad), bad


@given(st.text(alphabet="0123456789.-e", min_size=1, max_size=9))
def test_whatever_the_size_grammar_admits_is_in_unit_range(text: str) -> None:
    if gbnf_to_regex(bounded_number(1)).fullmatch(text):
        assert 0.0 <= float(text) <= 1.0


def test_bound_ranges_replaces_every_bounded_number_of_the_decision_schema() -> None:
    schema = decision_schema()
    raw = 'size-kv ::= "\\"size\\"" space ":" space number\nstop-loss-pct ::= number | null\n'

    gbnf = bound_ranges(raw, schema)

    assert 'size-kv ::= "\\"size\\"" space ":" space (size-bounded space)' in gbnf
    assert "stop-loss-pct ::= (stop-loss-pct-bounded space) | null" in gbnf
    assert f"stop-loss-pct-bounded ::= {bounded_number(50)}" in gbnf
    assert f"take-profit-pct-bounded ::= {bounded_number(500)}" in gbnf


def test_bounded_number_refuses_a_range_it_cannot_write() -> None:
    with pytest.raises(ValueError, match="whole maximum"):
        bounded_number(0.5)


def test_the_grammars_compile_in_llama_cpp() -> None:
    from llama_cpp.llama_grammar import LlamaGrammar

    from papertape.plugins.llm.providers.local import grammar_text

    schema = decision_schema()
    texts = [
        grammar_text(json.dumps(schema)),
        decision_continuation(schema, ["BUY", "HOLD"], with_confidence=True),
        decision_continuation(schema, ["HOLD", "CLOSE", "SELL"], with_confidence=False),
    ]
    for text in texts:
        assert LlamaGrammar.from_string(text, verbose=False)._grammar  # parsed, not empty


def test_the_continuation_gives_trades_a_size_and_holds_none() -> None:
    gbnf = decision_continuation(decision_schema(), ["BUY", "HOLD"], with_confidence=False)
    root = gbnf.splitlines()[0]

    buy, hold = root.removeprefix("root ::= ").split(" | ", 1)
    assert buy.startswith('("BUY\\""') and " size " in buy and "confidence" not in buy
    assert hold.startswith('("HOLD\\""') and '\\"size\\": 0, ' in hold and " size " not in hold
    assert "size ::= " in gbnf and '[^"\\\\\\x7F\\x00-\\x1F]{0,160}' in root
