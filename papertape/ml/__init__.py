"""Machine-learning models of papertape: features, the model registry and regime detectors.

Heavy dependencies (torch, hmmlearn, scikit-learn; ``pip install papertape[ml]``) are imported
only by the detectors that need them.
"""

from papertape.ml.features import (
    DEFAULT_FEATURES,
    FeatureScaler,
    FeatureSpec,
    OnlineFeatures,
    feature_matrix,
)
from papertape.ml.registry import ModelEntry, list_models, read_metadata, resolve_version

__all__ = [
    "DEFAULT_FEATURES",
    "FeatureScaler",
    "FeatureSpec",
    "ModelEntry",
    "OnlineFeatures",
    "feature_matrix",
    "list_models",
    "read_metadata",
    "resolve_version",
]
