from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from papertape.engine.feeds.base import BarSeries
from papertape.ml.features import FeatureSpec, feature_matrix
from papertape.ml.regime.model import RegimeModel, fit_regime_model


@pytest.fixture(scope="module")
def raw(spx_short: BarSeries) -> np.ndarray:
    return feature_matrix(spx_short.high, spx_short.low, spx_short.close, FeatureSpec())


def test_forward_filter_equals_hmmlearns_posterior_of_the_last_row_of_each_prefix(
    fitted: Callable[[str], RegimeModel], raw: np.ndarray
) -> None:
    from hmmlearn.hmm import GaussianHMM

    model = fitted("hmm")
    det = model.detector
    ref = GaussianHMM(n_components=3, covariance_type="full")
    ref.startprob_, ref.transmat_ = det.startprob, det.transmat  # type: ignore[attr-defined]
    ref.means_, ref.covars_ = det.means, det.covars  # type: ignore[attr-defined]
    rows = model.scaler.transform(raw[21:])
    ours = det.filter(rows)
    for t in (0, 1, 50, 333, len(rows) - 1):
        # the smoothed posterior of the LAST row of a prefix is the filtered probability
        np.testing.assert_allclose(ours[t], ref.predict_proba(rows[: t + 1])[-1], atol=1e-8)
    # ... while the smoothed posterior over the whole sample differs somewhere (it looks ahead)
    assert np.abs(ref.predict_proba(rows) - ours).max() > 0.1


def test_states_are_sorted_by_volatility_after_every_fit(raw: np.ndarray) -> None:
    vol_col = 1
    for seed in (0, 1, 2):
        model = fit_regime_model(
            raw, 1000, FeatureSpec(), "hmm", hyperparameters={"n_init": 1}, seed=seed
        )
        det = model.detector
        assert (np.diff(det.means[:, vol_col]) > 0).all()  # type: ignore[attr-defined]
        durations = det.expected_durations()  # type: ignore[attr-defined]
        assert all(d > 2 for d in durations.values())


def test_labels_stay_stable_across_refits_on_a_growing_window(raw: np.ndarray) -> None:
    spec = FeatureSpec()
    a = fit_regime_model(raw, 1000, spec, "hmm", hyperparameters={"n_init": 2}, seed=7)
    b = fit_regime_model(raw, 1250, spec, "hmm", hyperparameters={"n_init": 2}, seed=8)
    la = np.nan_to_num(a.filter_raw(raw)).argmax(axis=1)[21:1000]
    lb = np.nan_to_num(b.filter_raw(raw)).argmax(axis=1)[21:1000]
    assert np.mean(la == lb) > 0.75
