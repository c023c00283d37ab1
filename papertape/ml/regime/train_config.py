"""Training configs (``configs/train-*.toml``) parsed into a frozen, validated object.

A training config reads top to bottom::

    [train]                         # what to train, on what, where to put it
    model = "hmm"                   # heuristic | hmm | vae | transformer
    data = "sp500_daily.csv"        # next to the config, in the working dir, or shipped
    symbol = "SPX"
    train_end = "2014-12-31"        # inclusive; omit to train on the whole file
    out = "models/hmm-spx"          # model folder; each run adds a version v1, v2, ...
    seed = 7
    regimes = 3

    [features]                      # optional: ml.features.FeatureSpec fields
    names = ["log_return", "volatility", "momentum"]

    [hyperparameters]               # optional: the detector's hyperparameters
    n_init = 3

Command-line options of ``papertape train regime`` override the file's values.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from papertape.engine.errors import ConfigError
from papertape.ml.features import FeatureSpec

__all__ = ["TrainConfig", "TrainSection", "load_train_config", "parse_train_config"]


class TrainSection(BaseModel):
    """``[train]``."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    model: Literal["heuristic", "hmm", "vae", "transformer"] | None = None
    data: str | None = None
    symbol: str | None = None
    train_end: str | None = None
    out: str | None = None
    seed: int = 7
    regimes: int = Field(3, ge=2, le=4)


class TrainConfig(BaseModel):
    """A whole training config."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    train: TrainSection = TrainSection()
    features: dict[str, Any] = {}
    hyperparameters: dict[str, Any] = {}
    base_dir: str = "."

    def feature_spec(self) -> FeatureSpec:
        """The ``[features]`` table as a FeatureSpec (defaults for what it omits)."""
        data = dict(self.features)
        if "names" in data:
            data["names"] = tuple(data["names"])
        try:
            return FeatureSpec(**data)
        except TypeError as exc:
            raise ConfigError("features", self.features, str(exc)) from None


def parse_train_config(data: dict[str, Any], base_dir: str | Path = ".") -> TrainConfig:
    """Validate a training config mapping; raise ConfigError naming the first bad key."""
    try:
        cfg = TrainConfig.model_validate({**data, "base_dir": str(base_dir)})
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "<root>"
        reason = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        raise ConfigError(key, err.get("input"), reason) from None
    cfg.feature_spec()  # validate feature names and windows now
    return cfg


def load_train_config(path: str | Path) -> TrainConfig:
    """Read and validate a TOML training config."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError("--config", str(p), "file not found")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("--config", str(p), f"not valid TOML: {exc}") from None
    return parse_train_config(data, p.resolve().parent)
