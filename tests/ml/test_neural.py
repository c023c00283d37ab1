from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch

from papertape.engine.feeds.base import BarSeries
from papertape.ml.features import FeatureSpec, feature_matrix
from papertape.ml.regime.model import RegimeModel, fit_regime_model

TINY = {
    "vae": {"epochs": 2, "hidden": 8},
    "transformer": {"epochs": 2, "d_model": 8, "nhead": 2, "ff": 16, "layers": 1},
}


@pytest.fixture(scope="module")
def raw(spx_short: BarSeries) -> np.ndarray:
    return feature_matrix(spx_short.high, spx_short.low, spx_short.close, FeatureSpec())


@pytest.mark.parametrize("kind", ["vae", "transformer"])
def test_training_is_deterministic_and_leaves_the_global_torch_rng_alone(
    kind: str, raw: np.ndarray
) -> None:
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    a = fit_regime_model(raw, 800, FeatureSpec(), kind, hyperparameters=TINY[kind], seed=5)
    assert torch.equal(torch.rand(1), expected_next)
    b = fit_regime_model(raw, 800, FeatureSpec(), kind, hyperparameters=TINY[kind], seed=5)
    c = fit_regime_model(raw, 800, FeatureSpec(), kind, hyperparameters=TINY[kind], seed=6)
    sa, sb, sc = (m.detector.net.state_dict() for m in (a, b, c))  # type: ignore[attr-defined]
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)


def test_vae_clusters_are_ordered_by_volatility(fitted: Callable[[str], RegimeModel]) -> None:
    metrics = fitted("vae").metadata["metrics"]
    vols = list(metrics["cluster_mean_volatility"].values())
    assert vols == sorted(vols) and len(vols) == 3
    assert metrics["reconstruction_loss"] > 0 and metrics["kl"] >= 0


def test_transformer_learns_its_teachers_labels(fitted: Callable[[str], RegimeModel]) -> None:
    meta = fitted("transformer").metadata
    metrics = meta["metrics"]
    assert metrics["teacher"]["kind"] == "hmm"
    assert metrics["train_windows"] > 500
    # three epochs of a tiny network already beat always answering the majority regime
    share = max(metrics["teacher"]["metrics"]["train_share_filtered"].values())
    assert metrics["train_accuracy"] > share


def test_transformer_can_be_taught_by_the_vae(raw: np.ndarray) -> None:
    hp = {**TINY["transformer"], "teacher": "vae"}
    model = fit_regime_model(raw, 800, FeatureSpec(), "transformer", hyperparameters=hp, seed=1)
    assert model.metadata["metrics"]["teacher"]["kind"] == "vae"
    probs = model.filter_raw(raw)
    assert np.isnan(probs[: 21 + 15]).all() and np.isfinite(probs[21 + 15 :]).all()
