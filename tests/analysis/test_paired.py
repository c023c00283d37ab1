from __future__ import annotations

import math

import numpy as np
import pytest
from arch.bootstrap import CircularBlockBootstrap
from arch.covariance.kernel import QuadraticSpectral

from papertape.analysis.bootstrap import choose_block_length, studentized_contrasts
from papertape.analysis.hac import long_run_covariance
from papertape.analysis.measures import SharpeRatio
from papertape.analysis.significance import (
    PairedTest,
    sharpe_difference,
    total_return_difference,
)
from papertape.engine.errors import ConfigError, DataError

from .conftest import correlated_pair


def _sharpe(r: np.ndarray) -> float:
    return float(r.mean() / r.std())


def test_statistic_is_the_annualised_sharpe_difference(rng) -> None:
    a, b = correlated_pair(rng, 400, edge=0.001)

    result = sharpe_difference(a, b, periods_per_year=252, reps=199)

    assert isinstance(result, PairedTest)
    assert result.statistic == pytest.approx((_sharpe(a) - _sharpe(b)) * math.sqrt(252))
    assert result.ci_low < result.statistic < result.ci_high
    assert result.reps == 199
    assert "Ledoit-Wolf" in result.method


def test_replicates_match_a_plain_loop_over_arch_resamples(rng) -> None:
    """The block-sum vectorisation equals resampling with arch and recomputing by hand."""
    a, b = correlated_pair(rng, 203, edge=0.0005)  # 203 = 4 · 50 + 3: the last block is short
    length, reps, seed = 4, 60, 7
    boot = studentized_contrasts(
        np.column_stack([b, a]), SharpeRatio(), reps=reps, seed=seed, block_length=length
    )

    data = np.column_stack([b, a, b * b, a * a])
    theta = _sharpe(a) - _sharpe(b)
    expected = []
    sampler = CircularBlockBootstrap(length, data, seed=seed)
    for (sample,), _ in sampler.bootstrap(reps):
        rb, ra = sample[:, 0], sample[:, 1]
        theta_star = _sharpe(ra) - _sharpe(rb)
        mu_a, mu_b = ra.mean(), rb.mean()
        g_a, g_b = (ra * ra).mean(), (rb * rb).mean()
        grad = np.array(
            [
                -g_b / (g_b - mu_b**2) ** 1.5,
                g_a / (g_a - mu_a**2) ** 1.5,
                mu_b / (2 * (g_b - mu_b**2) ** 1.5),
                -mu_a / (2 * (g_a - mu_a**2) ** 1.5),
            ]
        )
        centred = sample - sample.mean(axis=0)
        block_sums = [centred[i : i + length].sum(axis=0) for i in range(0, len(sample), length)]
        psi = sum(np.outer(s, s) for s in block_sums) / len(sample)
        se = math.sqrt(grad @ psi @ grad / len(sample))
        expected.append((theta_star - theta) / se)

    assert boot.block_length == length
    assert boot.estimate[0] == pytest.approx(theta)
    np.testing.assert_allclose(boot.replicates[:, 0], expected, rtol=1e-9, atol=1e-12)


def test_standard_error_matches_the_normal_iid_formula() -> None:
    """For iid normal returns T·Var(SR_a - SR_b) = 2(1-ρ) + (SR_a² + SR_b² - 2 SR_a SR_b ρ²)/2."""
    rng = np.random.default_rng(3)
    periods, rho = 20_000, 0.6
    z = rng.standard_normal((periods, 2))
    a = 0.1 + z[:, 0]
    b = 0.05 + rho * z[:, 0] + math.sqrt(1 - rho**2) * z[:, 1]
    sr_a, sr_b = 0.1, 0.05
    theory = math.sqrt(
        (2 * (1 - rho) + 0.5 * (sr_a**2 + sr_b**2 - 2 * sr_a * sr_b * rho**2)) / periods
    )

    boot = studentized_contrasts(np.column_stack([b, a]), SharpeRatio(), reps=19, seed=0)

    assert boot.std_error[0] == pytest.approx(theory, rel=0.06)


def test_hac_without_prewhitening_is_arch_quadratic_spectral(rng) -> None:
    x = rng.standard_normal((300, 3))
    x[:, 1] += 0.5 * x[:, 0]

    ours = long_run_covariance(x, prewhiten=False)

    reference = QuadraticSpectral(x, df_adjust=3).cov.long_run
    np.testing.assert_allclose(ours, reference, rtol=1e-12)


def test_prewhitened_hac_recovers_an_ar1_long_run_variance() -> None:
    rng = np.random.default_rng(11)
    phi, periods, estimates = 0.5, 3000, []
    for _ in range(20):
        shocks = rng.standard_normal(periods)
        x = np.empty(periods)
        x[0] = shocks[0]
        for t in range(1, periods):
            x[t] = phi * x[t - 1] + shocks[t]
        estimates.append(long_run_covariance(x[:, None])[0, 0])

    assert np.mean(estimates) == pytest.approx(1 / (1 - phi) ** 2, rel=0.08)


def test_a_flat_column_contributes_nothing_to_the_hac(rng) -> None:
    x = np.column_stack([rng.standard_normal(200), np.zeros(200)])

    psi = long_run_covariance(x)

    assert psi[0, 0] > 0
    assert psi[1, 1] == psi[0, 1] == psi[1, 0] == 0.0


def test_block_length_follows_the_dependence(rng) -> None:
    white = rng.standard_normal((2000, 1))
    persistent = np.empty_like(white)
    persistent[0] = white[0]
    for t in range(1, len(white)):
        persistent[t] = 0.9 * persistent[t - 1] + white[t]

    assert choose_block_length(white) <= 3
    assert choose_block_length(persistent) >= 10
    assert choose_block_length(persistent[:40]) <= 40 // 8


def test_same_seed_same_result_other_seed_other_draws(rng) -> None:
    a, b = correlated_pair(rng, 300, edge=0.0008)

    first = sharpe_difference(a, b, periods_per_year=252, reps=499, seed=5)
    again = sharpe_difference(a, b, periods_per_year=252, reps=499, seed=5)
    other = sharpe_difference(a, b, periods_per_year=252, reps=499, seed=6)

    assert first == again
    assert (first.p_value, first.ci_low) != (other.p_value, other.ci_low)
    assert first.statistic == other.statistic


def test_zero_lies_outside_the_interval_exactly_when_p_is_below_alpha() -> None:
    rng = np.random.default_rng(8)
    verdicts = []
    for seed in range(30):
        a, b = correlated_pair(rng, 150, edge=0.0015)
        result = sharpe_difference(a, b, periods_per_year=252, reps=199, seed=seed)
        outside = not result.ci_low <= 0.0 <= result.ci_high
        assert outside == (result.p_value <= 0.05)
        verdicts.append(outside)
    assert 0 < sum(verdicts) < len(verdicts)  # both kinds of case were exercised


def test_an_always_flat_baseline_has_sharpe_zero(rng) -> None:
    a, _ = correlated_pair(rng, 250, edge=0.002)

    result = sharpe_difference(a, np.zeros(250), periods_per_year=252, reps=199)

    assert result.statistic == pytest.approx(_sharpe(a) * math.sqrt(252))


def test_total_return_difference_is_the_compounded_difference(rng) -> None:
    a, b = correlated_pair(rng, 250, edge=0.001)

    result = total_return_difference(a, b, periods_per_year=252, reps=199)

    expected = np.prod(1 + a) - np.prod(1 + b)
    assert result.statistic == pytest.approx(expected)
    assert result.ci_low < expected < result.ci_high
    assert "total return" in result.method


def test_a_constant_daily_edge_is_a_significant_total_return_gap() -> None:
    """The same trader plus 5 bp a day: the gap is clearly positive."""
    rng = np.random.default_rng(4)
    a, _ = correlated_pair(rng, 500, rho=0.99, edge=0.0)
    shifted = a + 0.0005

    result = total_return_difference(shifted, a, reps=499)

    assert result.p_value <= 0.01
    assert result.ci_low > 0


@pytest.mark.parametrize(
    ("a", "b", "error"),
    [
        (np.zeros(30), np.zeros(31), DataError),
        (np.r_[np.nan, np.zeros(29)], np.zeros(30), DataError),
        (np.zeros(5), np.zeros(5), DataError),
        (np.full(30, 0.001), np.linspace(-0.01, 0.01, 30), DataError),
    ],
)
def test_unusable_series_raise_data_error(a, b, error) -> None:
    with pytest.raises(error):
        sharpe_difference(a, b, periods_per_year=252, reps=99)


def test_bad_tuning_values_raise_config_error(rng) -> None:
    a, b = correlated_pair(rng, 50)
    with pytest.raises(ConfigError, match="reps"):
        sharpe_difference(a, b, periods_per_year=252, reps=10)
    with pytest.raises(ConfigError, match="alpha"):
        sharpe_difference(a, b, periods_per_year=252, alpha=1.5)
    with pytest.raises(ConfigError, match="periods_per_year"):
        sharpe_difference(a, b, periods_per_year=0)
    with pytest.raises(DataError, match="-100"):
        total_return_difference(np.r_[-1.0, a[1:]], b, reps=99)


def test_identical_traders_are_not_distinguishable(rng) -> None:
    """An LLM that only ever bought and held equals the buy-and-hold baseline: p = 1, no error."""
    a, _ = correlated_pair(rng, 120)

    sharpe = sharpe_difference(a, a.copy(), periods_per_year=252, reps=99)
    total = total_return_difference(a, a.copy(), reps=99)
    flat = sharpe_difference(np.zeros(60), np.zeros(60), periods_per_year=252, reps=99)

    for result in (sharpe, total, flat):
        assert (result.statistic, result.ci_low, result.ci_high) == (0.0, 0.0, 0.0)
        assert result.p_value == 1.0


def test_a_block_length_below_one_is_a_config_error(rng) -> None:
    a, b = correlated_pair(rng, 100)
    with pytest.raises(ConfigError, match="block_length"):
        sharpe_difference(a, b, periods_per_year=252, reps=99, block_length=0.0)
    with pytest.raises(ConfigError, match="block_length"):
        sharpe_difference(a, b, periods_per_year=252, reps=99, block_length=101)
    with pytest.raises(ConfigError, match="block_length"):
        sharpe_difference(a, b, periods_per_year=252, reps=99, block_length=float("nan"))


def test_a_riskless_gap_gets_the_smallest_p_value() -> None:
    result = total_return_difference(np.full(50, 0.001), np.zeros(50), reps=99)

    assert result.statistic == pytest.approx(1.001**50 - 1)
    assert result.ci_low == result.ci_high == result.statistic
    assert result.p_value == pytest.approx(1 / 100)
