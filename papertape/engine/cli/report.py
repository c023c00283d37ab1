"""Rendering session results: a rich table for people, one JSON object for programs."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from papertape.engine.cli.jsonable import to_json

if TYPE_CHECKING:
    from papertape.engine.session import SessionResult

__all__ = ["day_text", "figure", "iso", "money_digits", "print_table", "result_json"]


def iso(ns: int) -> str:
    """ISO 8601 UTC text for a nanosecond timestamp."""
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def day_text(ns: int) -> str:
    """The UTC date of a nanosecond timestamp, with hour and minute unless it is midnight."""
    when = datetime.fromtimestamp(ns / 1e9, UTC)
    return when.strftime("%Y-%m-%d %H:%M" if when.hour or when.minute else "%Y-%m-%d")


def _num(x: float) -> float | None:
    return x if isinstance(x, int | float) and math.isfinite(x) else None


def result_json(result: SessionResult) -> dict[str, Any]:
    """The documented JSON shape of ``backtest --json`` / ``run --json``."""
    strategies: dict[str, Any] = {}
    for sid, r in result.strategies.items():
        m = r.metrics.as_dict()
        strategies[sid] = {
            "strategy": r.strategy,
            "final_equity": m["final_equity"],
            "total_return": m["total_return"],
            "cagr": m["cagr"],
            "volatility": m["volatility"],
            "sharpe": m["sharpe"],
            "sortino": m["sortino"],
            "calmar": m["calmar"],
            "max_drawdown": m["max_drawdown"],
            "max_drawdown_duration_bars": m["max_drawdown_duration_bars"],
            "trades": m["trades"],
            "win_rate": m["win_rate"],
            "profit_factor": m["profit_factor"],
            "expectancy": m["expectancy"],
            "exposure": m["exposure"],
            "errors": r.errors,
            "enabled": r.enabled,
            "stats": to_json(r.stats, f"strategies.{sid}.stats"),
            "trade_list": [
                {
                    "symbol": t.symbol,
                    "side": "long" if t.side > 0 else "short",
                    "entry_time": iso(t.entry_time),
                    "entry_price": _num(t.entry_price),
                    "exit_time": iso(t.exit_time),
                    "exit_price": _num(t.exit_price),
                    "qty": _num(t.qty),
                    "pnl": _num(t.pnl),
                }
                for t in r.trades
            ],
        }
    return {
        "run_id": result.run_id,
        "bars": result.bars,
        "seconds": round(result.seconds, 6),
        "symbols": list(result.symbols),
        "rejected_rows": result.rejections,
        "journal": str(result.journal_path) if result.journal_path else None,
        "strategies": strategies,
    }


def dumps(obj: Any) -> str:
    """Strict JSON: numpy values converted, NaN/inf as null, anything else named and as text."""
    return json.dumps(to_json(obj), indent=2, allow_nan=False)


def figure(x: Any, digits: int = 2, pct: bool = False) -> str:
    """A metric as text: thousands separators, "—" when missing or NaN, "±∞" when infinite."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—" if x is None or math.isnan(x) else ("∞" if x > 0 else "-∞")
    if pct:
        return f"{x * 100:.{digits}f}%"
    if isinstance(x, int):
        return str(x)
    return f"{x:,.{digits}f}"


def money_digits(initial: float) -> int:
    """Decimals that show a millionth of ``initial`` (2 for dollar accounts, 5 for 10 BTC)."""
    if not (math.isfinite(initial) and initial > 0):
        return 2
    return min(8, max(2, 6 - math.floor(math.log10(initial))))


def print_table(result: SessionResult, console: Console | None = None) -> None:
    """Print the metrics table: one row per metric, one column per strategy."""
    console = console or Console()
    table = Table(
        title=f"papertape · {result.run_id} · {result.bars:,} bars in {result.seconds:.2f}s",
        title_justify="left",
    )
    table.add_column("metric")
    for sid, r in result.strategies.items():
        table.add_column(sid if r.enabled else f"{sid} (disabled)", justify="right")
    reports = [r.metrics for r in result.strategies.values()]
    rows: list[tuple[str, str, bool, int]] = [
        ("final equity", "final_equity", False, 2),
        ("total return", "total_return", True, 2),
        ("CAGR", "cagr", True, 2),
        ("volatility (ann.)", "volatility", True, 2),
        ("Sharpe", "sharpe", False, 2),
        ("Sortino", "sortino", False, 2),
        ("Calmar", "calmar", False, 2),
        ("max drawdown", "max_drawdown", True, 2),
        ("max DD duration (bars)", "max_drawdown_duration_bars", False, 0),
        ("trades", "trades", False, 0),
        ("win rate", "win_rate", True, 1),
        ("profit factor", "profit_factor", False, 2),
        ("expectancy", "expectancy", False, 2),
        ("exposure", "exposure", True, 1),
    ]
    money = {"final_equity", "expectancy"}  # in the account's currency: as many digits as it needs
    for label, attr, pct, digits in rows:
        table.add_row(
            label,
            *(
                figure(
                    getattr(m, attr),
                    money_digits(m.initial_equity) if attr in money else digits,
                    pct,
                )
                for m in reports
            ),
        )
    console.print(table)
    for sid, r in result.strategies.items():
        if "llm_calls" in r.stats:
            console.print(f"{sid}: {_llm_line(r.stats)}", highlight=False)
    if result.rejections:
        for sym, counts in result.rejections.items():
            console.print(f"[yellow]rejected rows in {sym}:[/] {counts}")
    if result.journal_path:
        console.print(f"journal: {result.journal_path}")


def _llm_line(stats: dict[str, Any]) -> str:
    """One line of LLM usage: decisions, model calls vs cache, invalid outputs, tokens, cost."""
    invalid = stats.get("invalid_decisions") or {}
    bad = ", ".join(f"{k}×{v}" for k, v in sorted(invalid.items())) or "none"
    lat = (stats.get("model_latency_ms") or {}).get("p50")
    parts = [
        f"{stats.get('decisions', 0)} decisions",
        f"{stats.get('llm_calls', 0)} model calls, {stats.get('cache_hits', 0)} from cache",
        f"invalid: {bad}",
        f"tokens {stats.get('tokens_in', 0)} in / {stats.get('tokens_out', 0)} out",
        f"cost ${stats.get('cost', 0.0):.4f}",
    ]
    if lat is not None:
        parts.append(f"model latency p50 {lat:,.0f} ms")
    return " · ".join(parts)
