"""HTML tables of the report: leaderboards with intervals, windows, LLM figures, decisions."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any

from papertape.arena.cells import interval, num, pct

__all__ = ["blinding_table", "decisions_table", "leaderboard_table", "llm_table", "windows_table"]


def _table(cls: str, head: list[str], rows: list[list[str]], attrs: list[str] | None = None) -> str:
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = []
    for i, r in enumerate(rows):
        a = f" {attrs[i]}" if attrs else ""
        body.append(f"<tr{a}>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>")
    return (
        f'<table class="{cls}"><thead><tr>{th}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    )


def leaderboard_table(board: dict[str, Any]) -> str:
    """Pooled figures per trader and, per contestant, the test against the best baseline."""
    comps = (board.get("significance") or {}).get("comparisons", {})
    head = [
        "trader",
        "kind",
        "return",
        "before fees",
        "Sharpe",
        "Sortino",
        "Calmar",
        "max DD",
        "trades",
        "win rate",
        "profit factor",
        "long / short / flat",
        "ΔSharpe vs best baseline [95%]",
        "Δreturn [95%]",
        "p (Romano-Wolf)",
        "verdict",
    ]
    rows = []
    for r in board["rows"]:
        c = comps.get(r["trader"])
        rows.append(
            [
                escape(r["trader"]),
                r["kind"],
                pct(r["total_return"], 2),
                pct(r["return_before_fees"], 2),
                num(r["sharpe"]),
                num(r["sortino"]),
                num(r["calmar"]),
                pct(r["max_drawdown"], 2),
                str(r["trades"]),
                pct(r["win_rate"], 0),
                num(r["profit_factor"]),
                f"{pct(r['time_long'], 0)} / {pct(r['time_short'], 0)} / {pct(r['time_flat'], 0)}",
                interval(c["sharpe_difference"]) if c else "",
                interval(c["total_return_difference"], as_pct=True) if c else "",
                num(c["p_adjusted"], 3) if c else "",
                escape(r.get("verdict", "")),
            ]
        )
    return _table("leaderboard", head, rows)


def windows_table(board: dict[str, Any]) -> str:
    """Total return and Sharpe of every trader in every window."""
    head = ["trader", *board["windows"]]
    rows = [
        [escape(r["trader"])]
        + [f"{pct(w['total_return'], 2)} ({num(w['sharpe'])})" for w in r["windows"]]
        for r in board["rows"]
    ]
    return _table("windows", head, rows)


def llm_table(board: dict[str, Any]) -> str:
    """Decisions, invalid and abstained answers, confidence, calibration, tokens, cost, latency."""
    head = [
        "trader",
        "model",
        "decisions",
        "actions",
        "invalid (by reason)",
        "abstained",
        "mean confidence",
        "Brier",
        "ECE",
        "scored",
        "tokens in / out",
        "cost",
        "cost / decision",
        "latency p50 / p95",
    ]
    rows = []
    for r in board["rows"]:
        m = r.get("llm")
        if not m:
            continue
        cal = m["calibration"]
        rows.append(
            [
                escape(r["trader"]),
                escape(str(m["model"])),
                str(m["decisions"]),
                escape(", ".join(f"{k} {v}" for k, v in m["actions"].items())),
                escape(", ".join(f"{k} {v}" for k, v in m["invalid"].items()) or "none"),
                str(m["abstained"]),
                num(m["mean_confidence"]),
                num(cal["brier"], 3),
                num(cal["ece"], 3),
                str(cal["n"]),
                f"{m['tokens_in']:,} / {m['tokens_out']:,}",
                f"${m['cost']:.4f}",
                f"${m['cost_per_decision']:.5f}",
                f"{num(m['latency_ms_p50'], 0)} / {num(m['latency_ms_p95'], 0)} ms",
            ]
        )
    return _table("llm", head, rows) if rows else "<p>No LLM traders in this arena.</p>"


def blinding_table(blinding: dict[str, Any] | None) -> str:
    """The edge over the best baseline on each tape, and whether it survives blinding."""
    if not blinding:
        return '<p>Blind mode was not run (set <code>blind = "both"</code>).</p>'
    rows = [
        [escape(t), num(v["edge_real"]), num(v["edge_blind"]), escape(v["verdict"])]
        for t, v in blinding.items()
    ]
    return _table("blinding", ["trader", "ΔSharpe real", "ΔSharpe blind", "verdict"], rows)


def _when(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).strftime("%Y-%m-%d")


def decisions_table(windows: list[dict[str, Any]]) -> tuple[str, list[str], list[str]]:
    """Every LLM decision with its reasoning; returns the table, its traders and its actions."""
    rows, attrs = [], []
    traders: set[str] = set()
    actions: set[str] = set()
    for w in windows:
        tape = "blind" if w["blind"] else "real"
        for tid, t in w["traders"].items():
            for d in t["decisions"]:
                parsed = d.get("decision") or {}
                action = str(d["action"])
                traders.add(tid)
                actions.add(action)
                reasoning = parsed.get("reasoning") or d.get("detail") or ""
                conf = parsed.get("confidence")
                rows.append(
                    [
                        escape(tid),
                        escape(w["label"]),
                        tape,
                        _when(int(d["time"])),
                        escape(d["decision_id"]),
                        escape(action),
                        escape(d["reason_code"]),
                        num(conf) if conf is not None else "—",
                        escape(str(parsed.get("size", "—"))),
                        escape(str(reasoning)),
                    ]
                )
                attrs.append(
                    f'data-trader="{escape(tid)}" data-action="{escape(action)}" data-tape="{tape}"'
                )
    head = [
        "trader",
        "window",
        "tape",
        "date",
        "decision",
        "action",
        "reason code",
        "confidence",
        "size",
        "reasoning",
    ]
    return _table("decisions", head, rows, attrs), sorted(traders), sorted(actions)
