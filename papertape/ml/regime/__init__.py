"""Regime detection: four detectors behind one interface, trained, versioned, forward only.

Detectors (``kind``): ``heuristic`` (volatility percentiles + trend), ``hmm`` (Gaussian HMM,
forward filtered), ``vae`` (VAE latents + KMeans) and ``transformer`` (sequence classifier
distilled from an HMM or VAE teacher). Regimes are ordered calm → transition → volatile.
"""

from papertape.ml.regime.base import (
    DetectorState,
    FitContext,
    RegimeDetector,
    RegimeReading,
    regime_names,
)
from papertape.ml.regime.model import (
    DETECTOR_KINDS,
    LabelTable,
    RegimeModel,
    RegimeTracker,
    detector_class,
    fit_regime_model,
    load_regime_model,
    train_regime_model,
)

__all__ = [
    "DETECTOR_KINDS",
    "DetectorState",
    "FitContext",
    "LabelTable",
    "RegimeDetector",
    "RegimeModel",
    "RegimeReading",
    "RegimeTracker",
    "detector_class",
    "fit_regime_model",
    "load_regime_model",
    "regime_names",
    "train_regime_model",
]
