"""``run_bench`` reports CPU-time figures beside the wall-clock ones (a shared machine)."""

from __future__ import annotations

from papertape.engine.bench import run_bench


def test_the_bench_reports_bars_per_cpu_second() -> None:
    # Act
    res = run_bench(bars=2_000, fast=3, slow=9)

    # Assert: the figure is the bars over the CPU seconds of the run
    assert res.cpu_seconds > 0.0
    assert res.signals > 0
    expected = res.bars * res.strategies / res.cpu_seconds
    assert abs(res.cpu_bar_strategy_per_sec - expected) <= 0.01 * expected
