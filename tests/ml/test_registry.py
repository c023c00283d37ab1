from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from papertape.engine.errors import ModelError
from papertape.ml.regime.model import RegimeModel, load_regime_model
from papertape.ml.registry import (
    METADATA_FILE,
    list_models,
    read_metadata,
    resolve_version,
    write_version,
)


def _writer(payload: bytes) -> Callable[[Path], list[str]]:
    def write(d: Path) -> list[str]:
        (d / "w.bin").write_bytes(payload)
        return ["w.bin"]

    return write


def test_each_save_adds_a_version_and_the_model_folder_resolves_to_the_latest(
    tmp_path: Path,
) -> None:
    root = tmp_path / "models" / "toy"
    v1 = write_version(root, _writer(b"one"), {"family": "toy", "kind": "a"})
    v2 = write_version(root, _writer(b"two"), {"family": "toy", "kind": "a"})
    assert (v1.name, v2.name) == ("v1", "v2")
    assert resolve_version(root) == v2
    assert resolve_version(v1) == v1
    assert read_metadata(v2)["version"] == 2
    entries = list_models(tmp_path / "models")
    assert [(e.name, e.version) for e in entries] == [("toy", 1), ("toy", 2)]


def test_an_incomplete_version_is_ignored(tmp_path: Path) -> None:
    root = tmp_path / "toy"
    write_version(root, _writer(b"one"), {"family": "toy"})
    (root / "v2").mkdir()  # a crashed save: no metadata.json
    assert resolve_version(root).name == "v1"
    assert write_version(root, _writer(b"three"), {"family": "toy"}).name == "v3"


def test_a_modified_weight_file_is_detected(tmp_path: Path) -> None:
    v = write_version(tmp_path / "toy", _writer(b"one"), {"family": "toy"})
    (v / "w.bin").write_bytes(b"evil")
    with pytest.raises(ModelError, match="SHA-256"):
        read_metadata(v)
    read_metadata(v, verify=False)


def test_nothing_to_load_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError):
        resolve_version(tmp_path / "nope")
    v = write_version(tmp_path / "toy", _writer(b"x"), {"family": "toy"})
    with pytest.raises(ModelError, match="not a regime model"):
        load_regime_model(v)


def test_regime_metadata_records_what_a_reproduction_needs(
    trained: Callable[[str], Path], fitted: Callable[[str], RegimeModel]
) -> None:
    meta = json.loads((trained("hmm") / "v1" / METADATA_FILE).read_text())
    assert meta["family"] == "regime" and meta["kind"] == "hmm" and meta["version"] == 1
    assert meta["features"]["names"] == ["log_return", "volatility", "momentum"]
    assert meta["data"]["first"].startswith("1999-01-04")
    assert meta["data"]["last"].startswith("2002-12-31")
    assert meta["data"]["train_end"] == "2002-12-31"
    assert len(meta["data"]["file_sha256"]) == 64 and len(meta["data"]["series_sha256"]) == 64
    assert meta["hyperparameters"]["n_init"] == 1
    assert {"log_likelihood", "expected_duration_bars", "transmat"} <= set(meta["metrics"])
    assert meta["created_at"].endswith("+00:00") and meta["papertape_version"]
    assert set(meta["files"]) == {"hmm.npz"}
    assert meta["seed"] == 7


def test_the_scaler_is_fitted_on_the_training_range_only(
    fitted: Callable[[str], RegimeModel], spx_short: object
) -> None:
    from papertape.ml.features import FeatureSpec, feature_matrix

    s = spx_short
    raw = feature_matrix(s.high, s.low, s.close, FeatureSpec())  # type: ignore[attr-defined]
    n_train = fitted("hmm").metadata["data"]["rows"]
    train = raw[21:n_train]
    np.testing.assert_allclose(fitted("hmm").scaler.mean, train.mean(axis=0), rtol=1e-12)
    assert not np.allclose(fitted("hmm").scaler.mean, raw[21:].mean(axis=0), rtol=1e-6)
