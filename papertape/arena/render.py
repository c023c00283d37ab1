"""The leaderboard for people: rich tables, one per variant, and the blinding verdicts."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from papertape.arena.cells import interval, num, pct

__all__ = ["print_arena"]


def _llm_cell(llm: dict[str, Any] | None, key: str) -> str:
    if not llm:
        return ""
    return str(llm.get(key, ""))


def _board(board: dict[str, Any], title: str) -> Table:
    t = Table(title=title, title_justify="left")
    cols = [
        "trader",
        "kind",
        "return",
        "before fees",
        "Sharpe",
        "Sortino",
        "Calmar",
        "max DD",
        "trades",
        "win",
        "PF",
        "long/short/flat",
    ]
    for c in cols:
        t.add_column(c, justify="left" if c in ("trader", "kind") else "right")
    for r in board["rows"]:
        t.add_row(
            r["trader"],
            r["kind"],
            pct(r["total_return"], 2),
            pct(r["return_before_fees"], 2),
            num(r["sharpe"]),
            num(r["sortino"]),
            num(r["calmar"]),
            pct(r["max_drawdown"], 1),
            str(r["trades"]),
            pct(r["win_rate"], 0),
            num(r["profit_factor"]),
            f"{pct(r['time_long'], 0)}/{pct(r['time_short'], 0)}/{pct(r['time_flat'], 0)}",
        )
    return t


def _significance_table(board: dict[str, Any]) -> Table | None:
    sig = board.get("significance")
    if not sig:
        return None
    t = Table(
        title=f"against the best baseline ({sig['best_baseline']}), 95% bootstrap intervals",
        title_justify="left",
    )
    for c in ("trader", "ΔSharpe", "Δreturn", "p", "p (Romano-Wolf)", "p (Holm)", "verdict"):
        t.add_column(c, justify="left" if c in ("trader", "verdict") else "right")
    for trader, c in sig["comparisons"].items():
        t.add_row(
            trader,
            interval(c["sharpe_difference"]),
            interval(c["total_return_difference"], as_pct=True),
            num(c["sharpe_difference"]["p_value"], 3),
            num(c["p_adjusted"], 3),
            num(c["p_holm"], 3),
            c["verdict"],
        )
    return t


def _llm_tables(board: dict[str, Any]) -> list[Table]:
    rows = [r for r in board["rows"] if r.get("llm")]
    if not rows:
        return []
    decisions = Table(title="LLM traders: decisions and calibration", title_justify="left")
    for c in (
        "trader", "decisions", "invalid (by reason)", "abstained", "mean conf.", "Brier",
        "ECE", "scored",
    ):  # fmt: skip
        decisions.add_column(c, justify="left" if c.startswith(("trader", "invalid")) else "right")
    usage = Table(title="LLM traders: usage", title_justify="left")
    for c in ("trader", "model", "tokens in/out", "cost", "cost/decision", "latency p50/p95"):
        usage.add_column(c, justify="left" if c in ("trader", "model") else "right")
    for r in rows:
        m = r["llm"]
        cal = m["calibration"]
        invalid = ", ".join(f"{k}×{v}" for k, v in m["invalid"].items()) or "none"
        decisions.add_row(
            r["trader"],
            str(m["decisions"]),
            invalid,
            str(m["abstained"]),
            num(m["mean_confidence"]),
            num(cal["brier"], 3),
            num(cal["ece"], 3),
            str(cal["n"]),
        )
        usage.add_row(
            r["trader"],
            str(m["model"]),
            f"{m['tokens_in']:,}/{m['tokens_out']:,}",
            f"${m['cost']:.4f}",
            f"${m['cost_per_decision']:.5f}",
            f"{num(m['latency_ms_p50'], 0)}/{num(m['latency_ms_p95'], 0)} ms",
        )
    return [decisions, usage]


def _windows_table(board: dict[str, Any]) -> Table:
    t = Table(title="per window: total return (Sharpe)", title_justify="left")
    t.add_column("trader")
    for label in board["windows"]:
        t.add_column(label, justify="right")
    for r in board["rows"]:
        t.add_row(
            r["trader"],
            *(f"{pct(w['total_return'], 2)} ({num(w['sharpe'])})" for w in r["windows"]),
        )
    return t


def print_arena(summary: dict[str, Any], console: Console | None = None) -> None:
    """Print every variant's leaderboard, the LLM figures and the blinding verdicts."""
    console = console or Console()
    for variant, board in summary["leaderboards"].items():
        title = (
            f"papertape arena · {summary['arena_id']} · {variant} tape · "
            f"{len(board['windows'])} windows · {board['bars']:,} bars"
        )
        console.print(_board(board, title))
        sig_table = _significance_table(board)
        if sig_table is not None:
            console.print(sig_table)
        console.print(_windows_table(board))
        for table in _llm_tables(board):
            console.print(table)
        sig = board.get("significance")
        if sig is not None:
            dsr = sig.get("deflated_sharpe")
            console.print(
                f"best baseline: {sig['best_baseline']} · family-wise α = {sig['alpha']} "
                f"({sig['method']}) · winner {sig['winner']}: deflated Sharpe "
                f"{num(dsr, 3)} (probability its Sharpe is skill, not the luck of the best of "
                f"{len(sig['comparisons'])} tries; > 0.95 is evidence)",
                highlight=False,
            )
        elif board.get("significance_note"):
            console.print(f"[yellow]{board['significance_note']}[/]")
    blinding = summary.get("blinding")
    if blinding:
        t = Table(title="does the edge survive blinding?", title_justify="left")
        for c in ("trader", "ΔSharpe real", "ΔSharpe blind", "verdict"):
            t.add_column(c, justify="left" if c in ("trader", "verdict") else "right")
        for trader, v in blinding.items():
            t.add_row(trader, num(v["edge_real"]), num(v["edge_blind"]), v["verdict"])
        console.print(t)
