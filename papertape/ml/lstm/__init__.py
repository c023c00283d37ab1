"""LSTM direction model: P(close N bars ahead > close now) from causal OHLCV features."""

from __future__ import annotations

from papertape.ml.lstm.features import FEATURES, feature_matrix, labels
from papertape.ml.lstm.model import DirectionModel, train_direction, walk_forward

__all__ = [
    "FEATURES",
    "DirectionModel",
    "feature_matrix",
    "labels",
    "train_direction",
    "walk_forward",
]
