from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from papertape.arena import parse_arena_config, run_arena, summary
from papertape.arena.calibration import decision_outcomes
from papertape.arena.contamination import edge_after_blinding
from papertape.arena.leaderboard import build_leaderboard
from papertape.engine.feeds.base import BarSeries
from tests.arena.conftest import arena_raw, llm_entry

COLUMNS = {
    "trader", "strategy", "kind", "total_return", "return_before_fees", "fees", "sharpe",
    "sortino", "calmar", "max_drawdown", "trades", "win_rate", "profit_factor", "time_long",
    "time_short", "time_flat", "errors", "enabled", "windows",
}  # fmt: skip


def test_rows_pool_the_windows_and_have_every_column(tiny_arena) -> None:
    run = run_arena(tiny_arena)
    board = build_leaderboard(run, blind=False)
    rows = {r["trader"]: r for r in board["rows"]}
    assert set(rows) == {"sma", "mom", "buy_and_hold", "always_flat", "random"}
    sharpes = [r["sharpe"] for r in board["rows"]]
    assert sharpes == sorted(sharpes, reverse=True)
    for tid, r in rows.items():
        assert set(r) >= COLUMNS
        assert r["time_long"] + r["time_short"] + r["time_flat"] == pytest.approx(1.0)
        growth = math.prod(1.0 + w["total_return"] for w in r["windows"])
        assert r["total_return"] == pytest.approx(growth - 1.0, abs=1e-9), tid
        assert r["return_before_fees"] >= r["total_return"]
        assert [w["window"] for w in r["windows"]] == board["windows"]
    assert rows["always_flat"]["total_return"] == 0.0 and rows["always_flat"]["time_flat"] == 1.0
    assert rows["buy_and_hold"]["time_long"] > 0.99
    # fees are what separates the two returns
    trades = rows["mom"]
    assert trades["fees"] > 0 and trades["return_before_fees"] > trades["total_return"]
    assert rows["sma"]["kind"] == "rule" and rows["random"]["kind"] == "baseline"


def test_llm_columns_come_from_the_decisions(tmp_path: Path, rule_model) -> None:
    entry = llm_entry("llm", rule_model.url, tmp_path / "cache", every=40, warmup=20)
    cfg = parse_arena_config(arena_raw(tmp_path, strategies=[entry]), tmp_path)
    board = build_leaderboard(run_arena(cfg), blind=False)
    (row,) = [r for r in board["rows"] if r["trader"] == "llm"]
    llm = row["llm"]
    n = len(rule_model.prompts)
    assert llm["decisions"] == n > 0
    assert llm["actions"]["BUY"] == 2  # flat at the start of each window, then long
    assert llm["abstained"] == n - 2  # valid HOLDs
    assert llm["invalid"] == {} and llm["invalid_total"] == 0
    assert llm["tokens_in"] == 600 * n and llm["tokens_out"] == 50 * n
    assert llm["mean_confidence"] == pytest.approx((0.7 * 2 + 0.6 * (n - 2)) / n)
    assert llm["calibration"]["n"] == 2  # the two BUYs; HOLDs make no claim
    assert llm["latency_ms_p50"] is not None and llm["latency_ms_p95"] >= llm["latency_ms_p50"]
    assert 0.5 < row["time_long"] < 1.0  # long from its first decision in each window


def test_invalid_answers_are_counted_by_reason(tmp_path: Path) -> None:
    dead = llm_entry("dead", "http://127.0.0.1:9", tmp_path / "cache", every=60, timeout=5.0)
    cfg = parse_arena_config(arena_raw(tmp_path, strategies=[dead]), tmp_path)
    board = build_leaderboard(run_arena(cfg), blind=False)
    (row,) = [r for r in board["rows"] if r["trader"] == "dead"]
    assert row["llm"]["invalid"] == {"provider_error": row["llm"]["decisions"]}
    assert row["llm"]["abstained"] == 0 and row["llm"]["mean_confidence"] is None
    assert row["trades"] == 0 and row["time_flat"] == 1.0


def _series(closes: list[float]) -> BarSeries:
    t = np.arange(len(closes), dtype=np.int64) * 86_400 * 10**9
    c = np.asarray(closes, dtype=float)
    return BarSeries.from_arrays("X", t, c, c, c, c, np.ones(len(c)))


def _decision(i: int, action: str, conf: float, code: str = "ok") -> dict:
    parsed = {"action": action, "confidence": conf} if code == "ok" else None
    return {"time": i * 86_400 * 10**9, "symbol": "X", "reason_code": code, "decision": parsed}


def test_outcome_is_the_sign_of_the_move_over_the_horizon_in_the_decisions_direction() -> None:
    s = {"X": _series([100, 101, 103, 102, 99, 98, 97, 100])}
    decisions = [
        _decision(0, "BUY", 0.9),  # 100 -> 103: right
        _decision(2, "BUY", 0.8),  # 103 -> 99: wrong
        _decision(3, "SELL", 0.7),  # 102 -> 98: right
        _decision(1, "HOLD", 0.6),  # no claim
        _decision(1, "CLOSE", 0.6),  # no claim
        _decision(2, "SELL", 0.5, code="schema_violation"),  # invalid
        _decision(6, "BUY", 0.9),  # not enough bars after it
    ]
    probs, hits = decision_outcomes(decisions, s, horizon=2)
    assert probs == [0.9, 0.8, 0.7]
    assert hits == [1, 0, 1]


def test_a_warm_rerun_reproduces_the_leaderboard_byte_for_byte(tmp_path: Path, rule_model) -> None:
    cache = tmp_path / "cache"
    raw = arena_raw(tmp_path, strategies=[llm_entry("llm", rule_model.url, cache)], blind="both")
    first = json.dumps(summary(run_arena(parse_arena_config(raw, tmp_path))))
    calls = len(rule_model.prompts)
    rule_model.answer = lambda prompt: "garbage"  # type: ignore[method-assign]
    second = json.dumps(summary(run_arena(parse_arena_config(raw, tmp_path))))
    assert len(rule_model.prompts) == calls  # everything came from the cache
    assert first == second
    assert '"blinding"' in first


def _board(rows: dict[str, float], beats: dict[str, bool] | None = None) -> dict:
    out = {
        "rows": [
            {"trader": t, "kind": "baseline" if t.startswith("b_") else "llm", "sharpe": s}
            for t, s in rows.items()
        ],
        "significance": None,
    }
    if beats is not None:
        out["significance"] = {
            "best_baseline": "b_hold",
            "comparisons": {
                t: {"verdict": ("beats b_hold" if b else "not distinguishable from b_hold")}
                for t, b in beats.items()
            },
        }
    return out


def test_edge_after_blinding_verdicts() -> None:
    real = _board({"b_hold": 0.5, "b_flat": 0.0, "memoriser": 1.5, "reader": 1.0, "dud": 0.2})
    blind = _board({"b_hold": 0.5, "b_flat": 0.0, "memoriser": 0.3, "reader": 0.9, "dud": 0.7})
    v = edge_after_blinding(real, blind)
    assert v["memoriser"]["verdict"] == "vanishes when blind"
    assert v["memoriser"]["edge_real"] == pytest.approx(1.0)
    assert v["reader"]["verdict"] == "survives"
    assert v["dud"]["verdict"] == "appears only when blind"
    # with significance, a point edge that is not significant is no edge
    real_s = {**real, **_board(real_rows := {"b_hold": 0.5, "reader": 1.0}, {"reader": True})}
    blind_s = _board({"b_hold": 0.5, "reader": 0.9}, {"reader": False})
    assert real_rows
    assert edge_after_blinding(real_s, blind_s)["reader"]["verdict"] == "vanishes when blind"
