"""Figures of an arena document as text: shared by the terminal tables and the HTML report."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["interval", "num", "pct"]


def pct(x: Any, digits: int) -> str:
    """A fraction as a percentage; "—" for a missing figure."""
    return "—" if x is None else f"{x * 100:.{digits}f}%"


def num(x: Any, digits: int = 2) -> str:
    """A number with thousands separators; "—" when missing, "∞" when infinite."""
    if x is None:
        return "—"
    if isinstance(x, float) and math.isinf(x):
        return "∞"
    return f"{x:,.{digits}f}"


def interval(test: dict[str, Any] | None, as_pct: bool = False) -> str:
    """``statistic [ci_low, ci_high]`` of a bootstrap test; "—" without one."""
    if not test or test.get("statistic") is None:
        return "—"

    def fmt(v: Any) -> str:
        return pct(v, 1) if as_pct else num(v, 2)

    return f"{fmt(test['statistic'])} [{fmt(test['ci_low'])}, {fmt(test['ci_high'])}]"
