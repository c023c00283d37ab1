"""Does the Sharpe difference test keep its promises on data where the truth is known?

Two traders with the same return process (correlation 0.5, Student-t(5) tails) must be declared
different in about 5 % of seeded trials at α = 0.05, and a trader with a planted edge must be
found.
"""

from __future__ import annotations

import numpy as np
import pytest

from papertape.analysis.significance import sharpe_difference

from .conftest import correlated_pair


def _rejection_rate(
    trials: int, periods: int, edge: float, *, reps: int, seed: int, fat_tails: bool = True
) -> float:
    rng = np.random.default_rng(seed)
    rejected = 0
    for trial in range(trials):
        a, b = correlated_pair(rng, periods, rho=0.5, edge=edge, fat_tails=fat_tails)
        result = sharpe_difference(a, b, periods_per_year=252, reps=reps, seed=trial)
        rejected += result.p_value <= 0.05
    return rejected / trials


def test_equal_traders_are_declared_different_about_five_percent_of_the_time() -> None:
    # 200 trials: if the true size is 5 %, P(rate outside [1 %, 11 %]) < 0.1 %.
    rate = _rejection_rate(200, 250, 0.0, reps=199, seed=1)

    assert 0.01 <= rate <= 0.11


def test_a_planted_edge_is_found() -> None:
    # 30 bp a day on 1 % vol: a per-period Sharpe gap of 0.3, about 3.4 standard errors at T=250.
    rate = _rejection_rate(100, 250, 0.003, reps=199, seed=2)

    assert rate >= 0.80


@pytest.mark.bench
@pytest.mark.parametrize(("periods", "fat_tails"), [(250, True), (250, False), (60, True)])
def test_size_over_a_thousand_trials(periods: int, fat_tails: bool) -> None:
    # 1000 trials: standard error of the rate 0.7 %; the band allows a mildly liberal test,
    # as Ledoit and Wolf report for fat tails and short samples.
    rate = _rejection_rate(1000, periods, 0.0, reps=499, seed=3, fat_tails=fat_tails)

    assert 0.03 <= rate <= 0.09


@pytest.mark.bench
def test_power_grows_with_the_edge() -> None:
    rates = [_rejection_rate(300, 250, edge, reps=499, seed=4) for edge in (0.001, 0.002, 0.003)]

    assert rates[0] < rates[1] < rates[2]
    assert rates[2] >= 0.9
