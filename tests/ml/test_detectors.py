from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from papertape.engine.errors import ConfigError, ModelError, UnknownParameter
from papertape.engine.feeds.base import BarSeries
from papertape.ml.features import FeatureSpec, feature_matrix
from papertape.ml.regime.model import RegimeModel, detector_class, load_regime_model

KINDS = ("heuristic", "hmm", "vae", "transformer")
TORCH = {"vae", "transformer"}


def _tol(kind: str) -> float:
    # torch models run in float32; batching may change the last bits of a sum
    return 1e-5 if kind in TORCH else 0.0


@pytest.mark.parametrize("kind", KINDS)
def test_probabilities_are_distributions_ordered_calm_first(
    kind: str, trained: Callable[[str], Path], spx_short: BarSeries
) -> None:
    model = load_regime_model(trained(kind))
    table = model.label_series(spx_short)
    ok = np.isfinite(table.probs).all(axis=1)
    assert ok[-1] and not ok[0]
    p = table.probs[ok]
    assert ((p >= 0) & (p <= 1)).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-6)
    assert model.names == ("calm", "transition", "volatile")
    # the calm regime has a lower realised volatility than the volatile one
    vol = feature_matrix(spx_short.high, spx_short.low, spx_short.close, FeatureSpec())[:, 1]
    labels = table.labels
    assert np.nanmean(vol[labels == 0]) < np.nanmean(vol[labels == 2])


@pytest.mark.parametrize("kind", KINDS)
def test_saved_and_loaded_models_give_the_same_answers(
    kind: str,
    trained: Callable[[str], Path],
    fitted: Callable[[str], RegimeModel],
    spx_short: BarSeries,
) -> None:
    path = trained(kind)
    loaded = load_regime_model(path)
    original = fitted(kind)
    assert loaded.kind == kind and loaded.path == path / "v1"
    assert loaded.scaler == original.scaler and loaded.spec == original.spec
    np.testing.assert_array_equal(
        loaded.label_series(spx_short).probs, original.label_series(spx_short).probs
    )


@pytest.mark.parametrize("kind", KINDS)
def test_look_ahead_output_at_t_ignores_everything_after_t(
    kind: str,
    trained: Callable[[str], Path],
    spx_short: BarSeries,
    cut: Callable[[BarSeries, int], BarSeries],
) -> None:
    model = load_regime_model(trained(kind))
    full = model.label_series(spx_short).probs
    # a different future: the same bars up to t, then a crash of 60% spread over the rest
    for t in (40, 400, 1000):
        past = model.label_series(cut(spx_short, t + 1)).probs
        np.testing.assert_allclose(past, full[: t + 1], rtol=0, atol=_tol(kind))
        crash = np.concatenate([np.ones(t + 1), np.linspace(1.0, 0.4, len(spx_short) - t - 1)])
        other = BarSeries.from_arrays(
            "SPX",
            spx_short.time,
            spx_short.open * crash,
            spx_short.high * crash,
            spx_short.low * crash,
            spx_short.close * crash,
            spx_short.volume,
        )
        alt = model.label_series(other).probs
        np.testing.assert_allclose(alt[: t + 1], full[: t + 1], rtol=0, atol=_tol(kind))
        assert not np.allclose(alt[t + 30 :], full[t + 30 :], equal_nan=True)  # the future differs


@pytest.mark.parametrize("kind", KINDS)
def test_online_tracker_is_bitwise_independent_of_the_future_and_matches_the_batch(
    kind: str, trained: Callable[[str], Path], spx_short: BarSeries
) -> None:
    model = load_regime_model(trained(kind))
    batch = model.label_series(spx_short).probs
    a, b = model.tracker(), model.tracker()
    n = 300
    for t in range(n):
        h, lo, c = (float(x[t]) for x in (spx_short.high, spx_short.low, spx_short.close))
        ra = a.update(h, lo, c)
        rb = b.update(h, lo, c)
        assert ra == rb
        if ra is None:
            assert np.isnan(batch[t]).any()
        else:
            np.testing.assert_allclose(ra.probs, batch[t], rtol=0, atol=max(_tol(kind), 1e-12))
            assert ra.confidence == max(ra.probs)
    # predict_proba answers for the latest row from the past rows only
    raw = feature_matrix(spx_short.high[:n], spx_short.low[:n], spx_short.close[:n], model.spec)
    rows = model.scaler.transform(raw[21:])
    np.testing.assert_allclose(
        model.detector.predict_proba(rows), batch[n - 1], atol=max(_tol(kind), 1e-12)
    )


def test_predict_proba_refuses_too_few_rows(trained: Callable[[str], Path]) -> None:
    model = load_regime_model(trained("transformer"))
    with pytest.raises(ModelError):
        model.detector.predict_proba(np.zeros((5, 3)))


def test_unknown_kind_and_hyperparameters_are_refused() -> None:
    with pytest.raises(ConfigError):
        detector_class("lstm")
    with pytest.raises(UnknownParameter):
        detector_class("hmm")(3, n_states=4)
    with pytest.raises(ConfigError):
        detector_class("transformer")(3, d_model=30, nhead=4)
    with pytest.raises(ConfigError):
        detector_class("heuristic")(3, calm_pct=90.0, volatile_pct=80.0)


def test_unfitted_detector_cannot_be_used() -> None:
    det = detector_class("hmm")(3)
    with pytest.raises(ModelError):
        det.filter(np.zeros((3, 3)))
    with pytest.raises(ModelError):
        RegimeModel(det, FeatureSpec(), None)  # type: ignore[arg-type]
