from __future__ import annotations

import sys

import pytest

from papertape.arena.calibration import score_calibration


def test_without_the_statistics_library_only_the_plain_figures(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "papertape.analysis.calibration", None)
    score = score_calibration([0.9, 0.6, 0.3], [1, 0, 1])
    assert score.n == 3 and score.hit_rate == pytest.approx(2 / 3)
    assert score.mean_confidence == pytest.approx(0.6)
    assert score.brier is None and score.ece is None and score.bins == []


def test_nothing_to_score() -> None:
    score = score_calibration([], [])
    assert score.n == 0 and score.brier is None and score.hit_rate is None


def test_scores_from_the_statistics_library() -> None:
    probs, hits = [0.9, 0.8, 0.7, 0.2], [1, 1, 0, 0]
    score = score_calibration(probs, hits, bins=2)
    brier = sum((p - h) ** 2 for p, h in zip(probs, hits, strict=True)) / 4
    assert score.brier == pytest.approx(brier)
    low, high = score.bins
    assert low["count"] == 1 and isinstance(low["count"], int) and high["count"] == 3
    assert high["hit_rate"] == pytest.approx(2 / 3)
    ece = (1 * abs(0.2 - 0.0) + 3 * abs(0.8 - 2 / 3)) / 4
    assert score.ece == pytest.approx(ece)
