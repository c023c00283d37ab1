from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from scipy.stats import rankdata

from papertape.analysis.significance import PboResult, probability_of_backtest_overfitting
from papertape.engine.errors import ConfigError, DataError


def _naive_cscv(matrix: np.ndarray, n_splits: int) -> np.ndarray:
    """CSCV written out as in the paper: concatenate slices, rank with scipy."""
    slices = np.array_split(np.arange(len(matrix)), n_splits)
    logits = []
    for picked in combinations(range(n_splits), n_splits // 2):
        rows_in = np.concatenate([slices[s] for s in picked])
        rows_out = np.concatenate([slices[s] for s in range(n_splits) if s not in picked])
        train, test = matrix[rows_in], matrix[rows_out]
        sharpe_in = train.mean(axis=0) / train.std(axis=0, ddof=1)
        sharpe_out = test.mean(axis=0) / test.std(axis=0, ddof=1)
        best = int(np.argmax(sharpe_in))
        omega = rankdata(sharpe_out)[best] / (matrix.shape[1] + 1)
        logits.append(np.log(omega / (1 - omega)))
    return np.array(logits)


def test_matches_a_literal_implementation() -> None:
    rng = np.random.default_rng(0)
    matrix = 0.01 * rng.standard_normal((203, 7))  # 203 rows: slices of unequal length

    result = probability_of_backtest_overfitting(matrix, n_splits=6)

    expected = _naive_cscv(matrix, 6)
    assert isinstance(result, PboResult)
    assert result.n_combinations == 20
    np.testing.assert_allclose(result.logits, expected, rtol=1e-10)
    assert result.pbo == pytest.approx(np.mean(expected <= 0))


def test_pure_noise_configurations_overfit_half_the_time() -> None:
    rng = np.random.default_rng(1)
    values = [
        probability_of_backtest_overfitting(0.01 * rng.standard_normal((600, 20)), 10).pbo
        for _ in range(12)
    ]

    assert 0.35 <= float(np.mean(values)) <= 0.65


def test_a_persistent_edge_is_not_overfitting() -> None:
    rng = np.random.default_rng(2)
    matrix = 0.01 * rng.standard_normal((1000, 20))
    matrix[:, 7] += 0.002  # a Sharpe of 0.2 a day, in every slice of time

    result = probability_of_backtest_overfitting(matrix)

    assert result.n_combinations == 12_870
    assert result.pbo < 0.05
    assert result.probability_of_loss < 0.05
    assert not result.logits.flags.writeable


def test_degradation_is_negative_when_selection_is_luck() -> None:
    rng = np.random.default_rng(3)
    matrix = 0.01 * rng.standard_normal((800, 30))

    result = probability_of_backtest_overfitting(matrix, 8)

    assert result.degradation_slope < 0
    assert len(result.in_sample) == len(result.out_of_sample) == 70


def test_bad_arguments() -> None:
    matrix = np.zeros((100, 3)) + np.arange(300).reshape(100, 3) * 1e-4
    with pytest.raises(ConfigError, match="n_splits"):
        probability_of_backtest_overfitting(matrix, 7)
    with pytest.raises(ConfigError, match="metric"):
        probability_of_backtest_overfitting(matrix, 4, metric="calmar")  # type: ignore[arg-type]
    with pytest.raises(DataError):
        probability_of_backtest_overfitting(matrix[:, :1], 4)
