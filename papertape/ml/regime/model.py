"""A trained regime model: feature spec + scaler + detector + metadata, and how to use it.

* :func:`fit_regime_model` fits the scaler and a detector on the first rows of a raw feature
  matrix (the walk-forward evaluation calls it once per refit);
* :func:`train_regime_model` does the same from a bar series and a ``train_end`` date and
  records where the data came from;
* :meth:`RegimeModel.save` writes a new version into the model registry and
  :func:`load_regime_model` reads one back;
* :meth:`RegimeModel.label_series` labels every bar of a series (forward filtered);
* :meth:`RegimeModel.tracker` gives the per-symbol online state the annotator runs per tick.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from papertape.engine.errors import ConfigError, DataError, ModelError
from papertape.ml.features import (
    FeatureScaler,
    FeatureSpec,
    OnlineFeatures,
    feature_matrix,
    first_complete_row,
)
from papertape.ml.regime.base import (
    DetectorState,
    FitContext,
    FloatArray,
    Progress,
    RegimeDetector,
    RegimeReading,
    single_threaded,
)
from papertape.ml.registry import read_metadata, resolve_version, utc_now, write_version

if TYPE_CHECKING:
    from papertape.engine.feeds.base import BarSeries

__all__ = [
    "DETECTOR_KINDS",
    "LabelTable",
    "RegimeModel",
    "RegimeTracker",
    "detector_class",
    "fit_regime_model",
    "iso_time",
    "load_regime_model",
    "series_sha256",
    "train_regime_model",
]

DETECTOR_KINDS: dict[str, str] = {
    "heuristic": "papertape.ml.regime.heuristic:HeuristicDetector",
    "hmm": "papertape.ml.regime.hmm:HmmDetector",
    "vae": "papertape.ml.regime.vae:VaeDetector",
    "transformer": "papertape.ml.regime.transformer:TransformerDetector",
}
MODEL_VERSION = "1"
FAMILY = "regime"


def detector_class(kind: str) -> type[RegimeDetector]:
    """The detector class of ``kind`` (imported lazily: torch only when needed).

    Raises:
        ConfigError: On an unknown kind.
        ModelError: If the detector's dependencies are not installed.
    """
    try:
        target = DETECTOR_KINDS[kind]
    except KeyError:
        raise ConfigError(
            "model", kind, f"unknown detector; choose from {sorted(DETECTOR_KINDS)}"
        ) from None
    module, _, cls = target.partition(":")
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        raise ModelError(
            f"the {kind} detector needs `pip install papertape[ml]` ({exc.name} is missing)"
        ) from exc
    found: type[RegimeDetector] = getattr(mod, cls)
    return found


def iso_time(ns: int) -> str:
    """Nanoseconds since the epoch as ISO 8601 UTC."""
    return dt.datetime.fromtimestamp(ns / 1e9, dt.UTC).isoformat()


def _parse_date(text: str) -> int:
    try:
        d = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError("--train-end", text, "expected a date like 2014-12-31") from None
    if d.tzinfo is None:
        d = d.replace(tzinfo=dt.UTC)
    if len(text) <= 10:  # a bare date includes that whole day
        d += dt.timedelta(days=1)
        return int(d.timestamp() * 1e9) - 1
    return int(d.timestamp() * 1e9)


@dataclass(frozen=True, slots=True)
class LabelTable:
    """Forward-filtered regimes of every bar of a series.

    Attributes:
        time: Bar times, ns since the epoch.
        probs: ``(bars, regimes)`` probabilities; NaN rows while the model warms up.
        names: Regime names, calmest first.
    """

    time: np.ndarray[Any, np.dtype[np.int64]]
    probs: FloatArray
    names: tuple[str, ...]

    @property
    def labels(self) -> np.ndarray[Any, np.dtype[np.int64]]:
        """Regime index per bar (``-1`` during warm-up)."""
        ok = np.isfinite(self.probs).all(axis=1)
        return np.where(ok, np.nan_to_num(self.probs).argmax(axis=1), -1).astype(np.int64)

    def readings(self) -> Iterator[tuple[int, RegimeReading | None]]:
        """``(time, reading or None)`` per bar."""
        for t, row in zip(self.time.tolist(), self.probs, strict=True):
            yield t, (RegimeReading.from_probs(row, self.names) if np.isfinite(row).all() else None)


class RegimeModel:
    """A fitted detector with the feature spec and scaler it was trained with.

    Args:
        detector: The fitted detector.
        spec: Feature spec of its input.
        scaler: Scaler fitted on the training rows.
        metadata: Facts recorded with the model (see :mod:`ml.registry`).
    """

    def __init__(
        self,
        detector: RegimeDetector,
        spec: FeatureSpec,
        scaler: FeatureScaler,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        detector.require_fitted()
        self.detector = detector
        self.spec = spec
        self.scaler = scaler
        self.metadata = dict(metadata or {})
        self.path: Path | None = None

    @property
    def kind(self) -> str:
        """Detector kind."""
        return self.detector.kind

    @property
    def names(self) -> tuple[str, ...]:
        """Regime names, calmest first."""
        return self.detector.names

    def filter_raw(self, raw: FloatArray) -> FloatArray:
        """Probabilities for every row of an *unscaled* feature matrix (NaN during warm-up)."""
        out = np.full((len(raw), self.detector.n_regimes), np.nan)
        first = first_complete_row(raw)
        if first < len(raw):
            with single_threaded():
                out[first:] = self.detector.filter(self.scaler.transform(raw[first:]))
        return out

    def label_series(self, series: BarSeries) -> LabelTable:
        """Label every bar of ``series`` (forward filtered)."""
        raw = feature_matrix(series.high, series.low, series.close, self.spec)
        return LabelTable(np.asarray(series.time, dtype=np.int64), self.filter_raw(raw), self.names)

    def tracker(self) -> RegimeTracker:
        """A fresh per-symbol online state."""
        return RegimeTracker(self)

    def save(self, model_dir: str | Path) -> Path:
        """Write a new version of this model under ``model_dir``; return its folder."""
        meta = {
            **self.metadata,
            "family": FAMILY,
            "kind": self.kind,
            "model_version": MODEL_VERSION,
            "labels": list(self.names),
            "n_regimes": self.detector.n_regimes,
            "features": self.spec.to_dict(),
            "scaler": self.scaler.to_dict(),
            "hyperparameters": self.detector.hyperparameters,
        }
        meta.setdefault("created_at", utc_now())
        self.path = write_version(model_dir, self.detector.save_weights, _json_ready(meta))
        self.metadata = read_metadata(self.path, verify=False)
        return self.path


class RegimeTracker:
    """Online regime of one symbol: feed bars in order, get a reading per bar."""

    __slots__ = ("_features", "_scaler", "_state", "last", "names")

    def __init__(self, model: RegimeModel) -> None:
        self._features = OnlineFeatures(model.spec)
        self._scaler = model.scaler
        self._state: DetectorState = model.detector.online()
        self.names = model.names
        self.last: RegimeReading | None = None

    def update(self, high: float, low: float, close: float) -> RegimeReading | None:
        """Add one bar; return its regime, or None while features or windows warm up."""
        row = self._features.update(high, low, close)
        if row is None:
            return None
        probs = self._state.step(self._scaler.transform_one(row))
        self.last = None if probs is None else RegimeReading.from_probs(probs, self.names)
        return self.last


def fit_regime_model(
    raw: FloatArray,
    n_train: int,
    spec: FeatureSpec,
    kind: str,
    *,
    n_regimes: int = 3,
    hyperparameters: Mapping[str, Any] | None = None,
    seed: int = 0,
    progress: Progress | None = None,
) -> RegimeModel:
    """Fit scaler and detector on rows ``[0, n_train)`` of an unscaled feature matrix.

    Raises:
        DataError: If there are too few complete training rows.
    """
    train = raw[:n_train]
    first = first_complete_row(train)
    rows = train[first:]
    if len(rows) < 50:
        raise DataError(f"only {len(rows)} complete feature rows to train on; need at least 50")
    scaler = FeatureScaler.fit(rows)
    detector = detector_class(kind)(n_regimes, **dict(hyperparameters or {}))
    start = time.perf_counter()
    with single_threaded():
        metrics = detector.fit(scaler.transform(rows), FitContext(spec.names, seed, progress))
    meta = {
        "seed": seed,
        "metrics": metrics,
        "training_seconds": round(time.perf_counter() - start, 3),
    }
    return RegimeModel(detector, spec, scaler, meta)


def train_regime_model(
    series: BarSeries,
    kind: str,
    *,
    train_end: str | None = None,
    spec: FeatureSpec | None = None,
    n_regimes: int = 3,
    hyperparameters: Mapping[str, Any] | None = None,
    seed: int = 0,
    progress: Progress | None = None,
    source: str | Path | None = None,
) -> RegimeModel:
    """Train a regime model on the bars of ``series`` up to ``train_end`` (inclusive date).

    Raises:
        ConfigError: If ``train_end`` is malformed.
        DataError: If too few bars fall in the training range.
    """
    from papertape.ml.registry import file_sha256

    spec = spec or FeatureSpec()
    times = np.asarray(series.time, dtype=np.int64)
    n_train = (
        len(times)
        if train_end is None
        else int(np.searchsorted(times, _parse_date(train_end), "right"))
    )
    if n_train < 2:
        raise DataError(
            f"no bars on or before --train-end {train_end} in {series.source or series.symbol}"
        )
    raw = feature_matrix(series.high, series.low, series.close, spec)
    model = fit_regime_model(
        raw,
        n_train,
        spec,
        kind,
        n_regimes=n_regimes,
        hyperparameters=hyperparameters,
        seed=seed,
        progress=progress,
    )
    src = Path(source) if source is not None else (Path(series.source) if series.source else None)
    model.metadata["data"] = {
        "source": str(src) if src else None,
        "file_sha256": file_sha256(src) if src is not None and src.is_file() else None,
        "series_sha256": series_sha256(series),
        "symbol": series.symbol,
        "first": iso_time(int(times[0])),
        "last": iso_time(int(times[n_train - 1])),
        "rows": n_train,
        "train_end": train_end,
        "file_last": iso_time(int(times[-1])),
    }
    try:
        from importlib.metadata import version

        model.metadata["papertape_version"] = version("papertape")
    except Exception:  # a bare checkout has no installed metadata
        model.metadata["papertape_version"] = "0+unknown"
    return model


def load_regime_model(path: str | Path) -> RegimeModel:
    """Load a regime model from a version folder or a model folder (latest version).

    Raises:
        ModelError: If nothing is there, the files do not match their hashes, or the model is
            not a regime model.
    """
    vdir = resolve_version(path)
    meta = read_metadata(vdir)
    if meta.get("family") != FAMILY:
        raise ModelError(f"{vdir} holds a {meta.get('family')!r} model, not a regime model")
    try:
        spec = FeatureSpec.from_dict(meta["features"])
        scaler = FeatureScaler.from_dict(meta["scaler"])
        detector = detector_class(meta["kind"])(int(meta["n_regimes"]), **meta["hyperparameters"])
    except (KeyError, TypeError, ConfigError) as exc:
        raise ModelError(f"{vdir}: metadata is incomplete or invalid: {exc}") from exc
    detector.load_weights(vdir, len(spec.names))
    model = RegimeModel(detector, spec, scaler, meta)
    model.path = vdir
    return model


def series_sha256(series: BarSeries) -> str:
    """SHA-256 over the symbol and columns (the same digest a run journals as its data hash)."""
    h = hashlib.sha256()
    h.update(series.symbol.encode())
    for col in (series.time, series.open, series.high, series.low, series.close, series.volume):
        h.update(np.ascontiguousarray(col).data)
    return h.hexdigest()


def _json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
