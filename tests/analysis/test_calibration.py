from __future__ import annotations

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss

from papertape.analysis.calibration import (
    ReliabilityBin,
    brier_score,
    expected_calibration_error,
    reliability_table,
)
from papertape.engine.errors import ConfigError, DataError


def test_brier_score_by_hand_and_against_sklearn() -> None:
    probs = [0.9, 0.2, 0.6, 0.5]
    outcomes = [1, 0, 0, True]

    assert brier_score(probs, outcomes) == pytest.approx((0.01 + 0.04 + 0.36 + 0.25) / 4)
    assert brier_score(probs, outcomes) == pytest.approx(brier_score_loss([1, 0, 0, 1], probs))


def test_reliability_table_matches_sklearn_calibration_curve() -> None:
    rng = np.random.default_rng(0)
    probs = rng.uniform(0, 1, 2000)
    outcomes = rng.uniform(0, 1, 2000) < probs**2  # overconfident above, under below

    table = reliability_table(probs, outcomes, bins=8)
    hit, conf = calibration_curve(outcomes, probs, n_bins=8, strategy="uniform")

    filled = [b for b in table if b.count]
    assert len(table) == 8 and all(isinstance(b, ReliabilityBin) for b in table)
    np.testing.assert_allclose([b.hit_rate for b in filled], hit)
    np.testing.assert_allclose([b.mean_confidence for b in filled], conf)
    assert sum(b.count for b in table) == 2000


def test_ece_is_near_zero_when_calibrated_and_large_when_not() -> None:
    rng = np.random.default_rng(1)
    probs = rng.uniform(0, 1, 20_000)
    calibrated = rng.uniform(0, 1, 20_000) < probs
    always_wrong_at_ninety = np.zeros(1000, dtype=bool)

    assert expected_calibration_error(probs, calibrated) < 0.02
    assert expected_calibration_error(np.full(1000, 0.9), always_wrong_at_ninety) == pytest.approx(
        0.9
    )


def test_ece_weights_bins_by_count() -> None:
    probs = [0.95, 0.95, 0.95, 0.15]
    outcomes = [1, 1, 0, 1]
    # bin 9: conf 0.95, hit 2/3 -> gap 0.2833 (weight 3); bin 1: conf 0.15, hit 1 -> 0.85 (weight 1)
    expected = (3 * abs(0.95 - 2 / 3) + 1 * 0.85) / 4

    assert expected_calibration_error(probs, outcomes, bins=10) == pytest.approx(expected)


def test_edges_and_empty_bins() -> None:
    table = reliability_table([0.0, 1.0, 0.5], [0, 1, 1], bins=2)

    assert [b.count for b in table] == [1, 2]
    assert table[1].upper == 1.0 and table[1].hit_rate == 1.0
    empty = reliability_table([0.05], [1], bins=4)[3]
    assert empty.count == 0 and empty.mean_confidence is None and empty.hit_rate is None


@pytest.mark.parametrize(
    ("probs", "outcomes"),
    [([], []), ([0.5], [1, 0]), ([1.2], [1]), ([np.nan], [1]), ([0.5], [2])],
)
def test_bad_inputs(probs, outcomes) -> None:
    with pytest.raises(DataError):
        brier_score(probs, outcomes)


def test_bins_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="bins"):
        reliability_table([0.5], [1], bins=0)
