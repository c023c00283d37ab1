"""A small, safe expression language for generated rule strategies.

Entry and exit conditions of an LLM-written strategy are text such as
``crosses_above(fast, slow) and rsi < 70``. They are parsed here by a hand-written tokenizer and
recursive-descent parser into a tree that is type-checked (conditions must be boolean, arithmetic
numeric) and compiled into closures over plain floats. Nothing is ever passed to ``eval``,
``exec``, ``compile`` or ``ast``: the only things an expression can do are the operators and the
six functions below, on the names it was given.

Grammar (precedence from low to high)::

    expr    := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | compare
    compare := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum)?
    sum     := product (("+" | "-") product)*
    product := unary (("*" | "/") unary)*
    unary   := "-" unary | atom
    atom    := NUMBER | NAME | NAME "(" expr ("," expr)* ")" | "(" expr ")"

Functions: ``prev(x)`` (value on the previous bar), ``crosses_above(a, b)``,
``crosses_below(a, b)``, ``abs(x)``, ``min(a, b)``, ``max(a, b)``. Missing values are NaN; any
comparison with NaN is false, so a rule never fires on an indicator that is still warming up.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from papertape.engine.errors import ConfigError

__all__ = ["FUNCTIONS", "MAX_LENGTH", "Condition", "compile_condition"]

MAX_LENGTH = 400
MAX_DEPTH = 24
Env = Mapping[str, float]
Fn = Callable[[Env, Env | None], float]

FUNCTIONS = {
    "prev": 1,
    "crosses_above": 2,
    "crosses_below": 2,
    "abs": 1,
    "min": 2,
    "max": 2,
}
_BOOL_FUNCTIONS = {"crosses_above", "crosses_below"}
_KEYWORDS = {"and", "or", "not"}
_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op><=|>=|==|!=|[<>+\-*/(),]))"
)
_NAN = float("nan")


def _tokens(text: str) -> list[tuple[str, str]]:
    out = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ValueError(f"unexpected character {text[pos:].lstrip()[:1]!r} at {pos}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


@dataclass(frozen=True, slots=True)
class _Node:
    fn: Fn
    boolean: bool


class _Parser:
    def __init__(self, text: str, names: frozenset[str]) -> None:
        self.toks = _tokens(text)
        self.i = 0
        self.names = names
        self.depth = 0

    def peek(self) -> str | None:
        return self.toks[self.i][1] if self.i < len(self.toks) else None

    def take(self, want: str | None = None) -> tuple[str, str]:
        if self.i >= len(self.toks):
            raise ValueError(f"expression ends early{f', expected {want!r}' if want else ''}")
        tok = self.toks[self.i]
        if want is not None and tok[1] != want:
            raise ValueError(f"expected {want!r}, found {tok[1]!r}")
        self.i += 1
        return tok

    def parse(self) -> _Node:
        node = self.expr()
        if self.i != len(self.toks):
            raise ValueError(f"unexpected {self.toks[self.i][1]!r} after a complete expression")
        return node

    def expr(self) -> _Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ValueError(f"expression nests deeper than {MAX_DEPTH}")
        try:
            node = self.conj()
            while self.peek() == "or":
                self.take()
                node = _logic("or", node, self.conj())
            return node
        finally:
            self.depth -= 1

    def conj(self) -> _Node:
        node = self.neg()
        while self.peek() == "and":
            self.take()
            node = _logic("and", node, self.neg())
        return node

    def neg(self) -> _Node:
        if self.peek() == "not":
            self.take()
            inner = _need(self.neg(), True, "not")
            f = inner.fn
            return _Node(lambda e, p: not f(e, p), True)
        return self.compare()

    def compare(self) -> _Node:
        left = self.sum()
        op = self.peek()
        if op not in ("<", "<=", ">", ">=", "==", "!="):
            return left
        self.take()
        right = self.sum()
        a, b = _need(left, False, op).fn, _need(right, False, op).fn
        ops: dict[str, Callable[[float, float], bool]] = {
            "<": lambda x, y: x < y,
            "<=": lambda x, y: x <= y,
            ">": lambda x, y: x > y,
            ">=": lambda x, y: x >= y,
            "==": lambda x, y: x == y,
            "!=": lambda x, y: x != y,
        }
        cmp = ops[op]
        if self.peek() in ("<", "<=", ">", ">=", "==", "!="):
            raise ValueError("chained comparisons are not allowed; join them with 'and'")
        return _Node(lambda e, p: cmp(a(e, p), b(e, p)), True)

    def sum(self) -> _Node:
        node = self.product()
        while self.peek() in ("+", "-"):
            op = self.take()[1]
            node = _arith(op, node, self.product())
        return node

    def product(self) -> _Node:
        node = self.unary()
        while self.peek() in ("*", "/"):
            op = self.take()[1]
            node = _arith(op, node, self.unary())
        return node

    def unary(self) -> _Node:
        if self.peek() == "-":
            self.take()
            f = _need(self.unary(), False, "-").fn
            return _Node(lambda e, p: -f(e, p), False)
        return self.atom()

    def atom(self) -> _Node:
        kind, text = self.take()
        if kind == "num":
            value = float(text)
            return _Node(lambda e, p: value, False)
        if text == "(":
            node = self.expr()
            self.take(")")
            return node
        if kind != "name" or text in _KEYWORDS:
            raise ValueError(f"unexpected {text!r}")
        if self.peek() == "(":
            return self.call(text)
        if text not in self.names:
            raise ValueError(f"unknown name {text!r} (known: {', '.join(sorted(self.names))})")
        return _Node(lambda e, p: e.get(text, _NAN), False)

    def call(self, fname: str) -> _Node:
        if fname not in FUNCTIONS:
            raise ValueError(f"unknown function {fname!r} (known: {', '.join(FUNCTIONS)})")
        self.take("(")
        args = [self.expr()]
        while self.peek() == ",":
            self.take()
            args.append(self.expr())
        self.take(")")
        if len(args) != FUNCTIONS[fname]:
            raise ValueError(f"{fname}() takes {FUNCTIONS[fname]} argument(s), got {len(args)}")
        fs = [_need(a, False, fname).fn for a in args]
        return _function(fname, fs)


def _need(node: _Node, boolean: bool, where: str) -> _Node:
    if node.boolean != boolean:
        want = "a condition" if boolean else "a number"
        got = "a condition" if node.boolean else "a number"
        raise ValueError(f"{where!r} needs {want}, got {got}")
    return node


def _logic(op: str, left: _Node, right: _Node) -> _Node:
    a, b = _need(left, True, op).fn, _need(right, True, op).fn
    if op == "and":
        return _Node(lambda e, p: bool(a(e, p)) and bool(b(e, p)), True)
    return _Node(lambda e, p: bool(a(e, p)) or bool(b(e, p)), True)


def _divide(x: float, y: float) -> float:
    return x / y if y != 0.0 else _NAN


def _arith(op: str, left: _Node, right: _Node) -> _Node:
    a, b = _need(left, False, op).fn, _need(right, False, op).fn
    fns: dict[str, Callable[[float, float], float]] = {
        "+": lambda x, y: x + y,
        "-": lambda x, y: x - y,
        "*": lambda x, y: x * y,
        "/": _divide,
    }
    f = fns[op]
    return _Node(lambda e, p: f(a(e, p), b(e, p)), False)


def _function(name: str, fs: list[Fn]) -> _Node:
    if name == "prev":
        (x,) = fs
        return _Node(lambda e, p: x(p, None) if p is not None else _NAN, False)
    if name in _BOOL_FUNCTIONS:
        a, b = fs
        above = name == "crosses_above"

        def crosses(e: Env, p: Env | None) -> float:
            if p is None:
                return False
            now, before = a(e, p) - b(e, p), a(p, None) - b(p, None)
            return (before <= 0.0 < now) if above else (before >= 0.0 > now)

        return _Node(crosses, True)
    if name == "abs":
        (x,) = fs
        return _Node(lambda e, p: abs(x(e, p)), False)
    a, b = fs
    pick = min if name == "min" else max
    return _Node(lambda e, p: _pick(pick, a(e, p), b(e, p)), False)


def _pick(pick: Callable[[float, float], float], x: float, y: float) -> float:
    return _NAN if math.isnan(x) or math.isnan(y) else pick(x, y)


@dataclass(frozen=True, slots=True)
class Condition:
    """A compiled, type-checked boolean condition.

    Call it with the current bar's values and the previous bar's (None on the first bar).
    """

    text: str
    _fn: Fn

    def __call__(self, now: Env, before: Env | None) -> bool:
        """Evaluate on one bar."""
        return bool(self._fn(now, before))


def compile_condition(
    text: str,
    names: frozenset[str] | set[str],
    key: str = "condition",
) -> Condition:
    """Parse and type-check ``text`` over ``names``.

    Raises:
        ConfigError: Naming ``key`` and saying what is wrong (syntax, unknown name, types).
    """
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(key, text, "an empty condition")
    if len(text) > MAX_LENGTH:
        raise ConfigError(key, text[:60] + "...", f"longer than {MAX_LENGTH} characters")
    try:
        node = _Parser(text, frozenset(names)).parse()
        if not node.boolean:
            raise ValueError("the whole expression must be a condition, not a number")
    except ValueError as exc:
        raise ConfigError(key, text, str(exc)) from None
    return Condition(text, node.fn)
