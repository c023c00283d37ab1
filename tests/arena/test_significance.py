"""compare_to_baselines on planted data (needs the statistics library)."""

from __future__ import annotations

import numpy as np

from papertape.arena.significance import compare_to_baselines


def _returns(seed: int, n: int = 1500) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    market = rng.standard_t(5, n) * 0.01 + 0.0008
    return {
        "buy_and_hold": market,
        "always_flat": np.zeros(n),
        "edge": 0.6 * market + 0.0015 + rng.normal(0, 0.002, n),  # planted, large
        "twin": market + rng.normal(0, 0.0005, n),  # the same process as the baseline
    }


def test_a_planted_edge_beats_the_best_baseline_and_a_twin_does_not() -> None:
    r = _returns(1)
    report = compare_to_baselines(
        r, ["edge", "twin"], ["buy_and_hold", "always_flat"], periods_per_year=252, reps=500
    )
    assert report is not None
    assert report.best_baseline == "buy_and_hold"
    edge, twin = report.comparisons["edge"], report.comparisons["twin"]
    assert edge.verdict == "beats buy_and_hold"
    assert edge.sharpe.ci_low > 0 and edge.p_adjusted <= 0.05 and edge.p_holm <= 0.05
    assert twin.verdict == "not distinguishable from buy_and_hold"
    assert twin.sharpe.ci_low < 0 < twin.sharpe.ci_high
    assert report.winner == "edge"
    assert report.deflated_sharpe is not None and 0.0 <= report.deflated_sharpe <= 1.0
    assert report.as_dict()["comparisons"]["edge"]["verdict"] == "beats buy_and_hold"


def test_same_seed_same_intervals() -> None:
    r = _returns(2)
    a = compare_to_baselines(r, ["edge"], ["buy_and_hold"], periods_per_year=252, reps=300)
    b = compare_to_baselines(r, ["edge"], ["buy_and_hold"], periods_per_year=252, reps=300)
    assert a is not None and b is not None
    assert a.as_dict() == b.as_dict()


def test_no_baseline_no_report() -> None:
    r = _returns(3)
    assert compare_to_baselines(r, ["edge"], [], periods_per_year=252) is None
