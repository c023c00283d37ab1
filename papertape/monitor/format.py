"""Small text formatters shared by the panels (times, money, one-line event summaries)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

__all__ = ["event_summary", "iso", "money"]


def iso(t_ns: int) -> str:
    """Market time (ns since the epoch) as ``YYYY-MM-DD HH:MM`` UTC."""
    return datetime.fromtimestamp(t_ns / 1e9, tz=UTC).strftime("%Y-%m-%d %H:%M")


def money(x: float | None) -> str:
    """A quote-currency amount with thousands separators, ``-`` for None."""
    return "-" if x is None else f"{x:,.2f}"


def event_summary(ev: dict[str, Any]) -> str:
    """One line saying what a journal event is about."""
    kind = ev.get("kind", "")
    if kind == "fill":
        side = "buy" if ev.get("side") == 1 else "sell"
        return f"{side} {ev['qty']:g} {ev['symbol']} @ {ev['price']:,.2f} ({ev.get('role', '')})"
    if kind == "order":
        side = "buy" if ev.get("side") == 1 else "sell"
        return f"{side} {ev.get('qty', 0):g} {ev.get('symbol', '')} {ev.get('order_type', '')}"
    if kind == "signal":
        return f"{ev.get('target', '')} {ev.get('symbol', '')}: {ev.get('reason', '')}"
    if kind == "llm_decision":
        return f"{ev.get('decision_id', '')} {ev.get('action', '')} ({ev.get('reason_code', '')})"
    if kind == "trade":
        return f"{ev.get('symbol', '')} pnl {ev.get('pnl', 0.0):,.2f}"
    if kind == "llm_outcome":
        return f"{ev.get('decision_id', '')} pnl {ev.get('pnl', 0.0):,.2f}"
    if kind in ("shield_tripped", "shield_released", "veto"):
        return f"{ev.get('shield', '')} {ev.get('state', '')} {ev.get('reason', '')}".strip()
    if kind == "regime_changed":
        return f"{ev.get('symbol', '')} {ev.get('previous')} -> {ev.get('regime')}"
    for key in ("reason", "error", "symbol", "run_id"):
        if key in ev:
            return str(ev[key])
    return ""
