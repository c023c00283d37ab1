from __future__ import annotations

import numpy as np
import pytest
from arch.bootstrap import StepM
from statsmodels.stats.multitest import multipletests

from papertape.analysis.familywise import _stepdown_p_values
from papertape.analysis.significance import (
    FamilywiseResult,
    beats_baseline,
    holm,
    romano_wolf,
)
from papertape.engine.errors import ConfigError, DataError


def _market(rng: np.random.Generator, periods: int, edges: list[float]):
    """Traders sharing a market factor with the baseline; trader k earns ``edges[k]`` a day."""
    common = rng.standard_normal(periods)
    idio = rng.standard_normal((periods, len(edges)))
    traders = 0.01 * (0.6 * common[:, None] + 0.8 * idio) + np.asarray(edges)
    return traders, 0.01 * common


def test_holm_matches_statsmodels() -> None:
    p = [0.01, 0.04, 0.03, 0.005, 0.2, 0.04]

    reference = multipletests(p, method="holm")[1]

    np.testing.assert_allclose(holm(p), reference)


def test_holm_rejects_bad_p_values() -> None:
    with pytest.raises(DataError):
        holm([0.1, 1.2])


def test_stepdown_p_values_by_hand() -> None:
    observed = np.array([3.0, 0.5, 2.0])
    replicates = np.array(
        [
            [0.1, 3.5, 0.2],
            [2.5, 0.1, 1.0],
            [0.3, 0.2, 2.2],
            [1.0, 0.4, 0.1],
        ]
    )
    # Column 0 (t=3.0) against the max over all columns: 3.5 >= 3.0 once -> (1+1)/5.
    # Column 2 (t=2.0) against the max over columns {2, 1}: 3.5, 1.0, 2.2, 0.4 -> 2 -> 3/5.
    # Column 1 (t=0.5) against column 1 alone: 3.5 -> 1 hit -> 2/5, raised to 3/5 (monotone).
    assert _stepdown_p_values(observed, replicates) == pytest.approx([0.4, 0.6, 0.6])


def test_romano_wolf_finds_the_traders_with_an_edge() -> None:
    rng = np.random.default_rng(0)
    traders, baseline = _market(rng, 750, [0.003, 0.002, 0.0, -0.002, 0.0])

    result = romano_wolf(traders, baseline, periods_per_year=252, reps=499)

    assert isinstance(result, FamilywiseResult)
    assert result.beats == (True, True, False, False, False)
    assert all(0 < p <= 1 for p in result.p_values)
    assert result.statistics[0] > result.statistics[1] > 0 > result.statistics[3]


def test_romano_wolf_on_means_agrees_with_arch_stepm() -> None:
    rng = np.random.default_rng(1)
    traders, baseline = _market(rng, 750, [0.003, 0.002, 0.0, -0.002])

    ours = romano_wolf(traders, baseline, periods_per_year=252, measure="mean", reps=999)
    # arch's StepM works on losses: a lower loss is better, so losses are negated returns.
    stepm = StepM(-baseline, -traders, size=0.05, reps=999, bootstrap="circular", seed=0)
    stepm.compute()

    assert [k for k, beat in enumerate(ours.beats) if beat] == sorted(stepm.superior_models)
    assert ours.statistics[0] == pytest.approx(252 * (traders[:, 0] - baseline).mean())


def test_romano_wolf_controls_the_familywise_error_rate() -> None:
    # Four traders no better than the baseline, 60 seeded tapes: a false "beats" in at most ~5 %.
    rng = np.random.default_rng(2)
    false_winners = 0
    for trial in range(60):
        traders, baseline = _market(rng, 250, [0.0, 0.0, 0.0, 0.0])
        result = romano_wolf(traders, baseline, periods_per_year=252, reps=99, seed=trial)
        false_winners += any(result.beats)

    assert false_winners / 60 <= 0.12


def test_holm_path_of_beats_baseline() -> None:
    rng = np.random.default_rng(3)
    traders, baseline = _market(rng, 750, [0.003, 0.0, -0.002])

    default = beats_baseline(traders, baseline, periods_per_year=252, reps=499)
    by_holm = beats_baseline(traders, baseline, periods_per_year=252, method="holm", reps=499)

    assert "Romano-Wolf" in default.method and "Holm" in by_holm.method
    assert default.beats == by_holm.beats == (True, False, False)
    assert by_holm.statistics == pytest.approx(default.statistics)


def test_familywise_rejects_bad_arguments() -> None:
    rng = np.random.default_rng(4)
    traders, baseline = _market(rng, 100, [0.0, 0.0])
    with pytest.raises(ConfigError, match="measure"):
        romano_wolf(traders, baseline, periods_per_year=252, measure="sortino", reps=99)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="method"):
        beats_baseline(traders, baseline, periods_per_year=252, method="bonferroni")  # type: ignore[arg-type]
    with pytest.raises(DataError):
        romano_wolf(traders[:50], baseline, periods_per_year=252, reps=99)


def test_copies_of_the_baseline_and_duplicate_traders_are_handled() -> None:
    rng = np.random.default_rng(5)
    traders, baseline = _market(rng, 500, [0.003])
    columns = np.column_stack([baseline, traders[:, 0], traders[:, 0], np.zeros(500)])

    result = romano_wolf(columns, baseline, periods_per_year=252, reps=199)

    assert result.beats == (False, True, True, False)
    assert np.all(np.isfinite(result.p_values)) and np.all(np.isfinite(result.statistics))
    assert result.p_values[0] == 1.0
