"""Figures of an arena document as text: shared by the terminal tables and the HTML report."""

from __future__ import annotations

from typing import Any

from papertape.engine.cli.report import figure

__all__ = ["interval", "num", "pct"]


def pct(x: Any, digits: int) -> str:
    """A fraction as a percentage; "—" for a missing figure."""
    return figure(x, digits, pct=True)


def num(x: Any, digits: int = 2) -> str:
    """A number with thousands separators; "—" when missing, "±∞" when infinite."""
    return figure(x, digits)


def interval(test: dict[str, Any] | None, as_pct: bool = False) -> str:
    """``statistic [ci_low, ci_high]`` of a bootstrap test; "—" without one."""
    if not test or test.get("statistic") is None:
        return "—"

    def fmt(v: Any) -> str:
        return pct(v, 1) if as_pct else num(v, 2)

    return f"{fmt(test['statistic'])} [{fmt(test['ci_low'])}, {fmt(test['ci_high'])}]"
