from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from papertape.analysis.significance import deflated_sharpe_ratio, expected_max_sharpe
from papertape.engine.errors import ConfigError, DataError


def test_the_numerical_example_of_bailey_and_lopez_de_prado() -> None:
    """JPM 2014, section "A numerical example": 100 trials, 5 years of daily returns.

    Annualised: best SR 2.5, variance of the trials' SR 0.5; skew -3, kurtosis 10, T = 1250,
    250 days a year. The paper finds SR0 ≈ 0.1132 a day and DSR ≈ 0.9004.
    """
    sharpe = 2.5 / math.sqrt(250)
    spread = math.sqrt(0.5 / 250)

    dsr = deflated_sharpe_ratio(
        sharpe, n_trials=100, n_obs=1250, skew=-3, kurtosis=10, sharpe_std_across_trials=spread
    )

    assert expected_max_sharpe(100, spread) == pytest.approx(0.1132, abs=5e-5)
    assert dsr == pytest.approx(0.9004, abs=5e-5)
    # the same number, evaluated directly from equations 2 and 9 with scipy
    gamma = 0.5772156649015329
    sr0 = spread * ((1 - gamma) * norm.ppf(1 - 1 / 100) + gamma * norm.ppf(1 - 1 / (100 * math.e)))
    z = (sharpe - sr0) * math.sqrt(1249) / math.sqrt(1 + 3 * sharpe + 9 / 4 * sharpe**2)
    assert dsr == pytest.approx(norm.cdf(z), rel=1e-12)


@pytest.mark.parametrize("n_trials", [10, 100, 1000])
def test_expected_max_sharpe_is_close_to_the_simulated_maximum(n_trials: int) -> None:
    rng = np.random.default_rng(n_trials)
    simulated = rng.standard_normal((4000, n_trials)).max(axis=1).mean() * 0.3

    assert expected_max_sharpe(n_trials, 0.3) == pytest.approx(simulated, rel=0.04)


def test_one_trial_is_the_probabilistic_sharpe_ratio_against_zero() -> None:
    dsr = deflated_sharpe_ratio(
        0.05, n_trials=1, n_obs=500, skew=0, kurtosis=3, sharpe_std_across_trials=0.1
    )

    assert expected_max_sharpe(1, 0.1) == 0.0
    assert dsr == pytest.approx(norm.cdf(0.05 * math.sqrt(499) / math.sqrt(1 + 0.5 * 0.05**2)))


def test_more_trials_deflate_more() -> None:
    values = [
        deflated_sharpe_ratio(
            0.08, n_trials=n, n_obs=750, skew=0, kurtosis=3, sharpe_std_across_trials=0.03
        )
        for n in (1, 10, 100, 1000)
    ]

    assert values == sorted(values, reverse=True)
    assert values[0] > 0.95 > values[-1]


def test_bad_inputs() -> None:
    with pytest.raises(ConfigError, match="n_trials"):
        expected_max_sharpe(0, 0.1)
    with pytest.raises(ConfigError, match="sharpe_std"):
        expected_max_sharpe(5, -1.0)
    with pytest.raises(ConfigError, match="n_obs"):
        deflated_sharpe_ratio(
            0.1, n_trials=2, n_obs=1, skew=0, kurtosis=3, sharpe_std_across_trials=0.1
        )
    with pytest.raises(DataError):
        deflated_sharpe_ratio(
            2.0, n_trials=2, n_obs=100, skew=5, kurtosis=1, sharpe_std_across_trials=0.1
        )
