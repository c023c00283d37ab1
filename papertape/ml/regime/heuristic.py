"""Heuristic baseline: volatility percentiles plus a falling-trend penalty.

The score of a bar is its scaled volatility, raised when prices fall:
``score = z_vol + trend_weight × max(0, −z_trend)`` where ``z_trend`` is the scaled ``trend``
feature (or ``momentum`` when ``trend`` is not selected). Thresholds are percentiles of the
score over the training rows (``calm_pct`` and ``volatile_pct``; with more than three regimes,
evenly spaced between them). Probabilities are soft: each threshold is a logistic step of width
``softness × std(score)``, which makes the answer ordinal (calm → transition → volatile) and
gives a confidence that is low near a threshold. Each bar is judged on its own row, so the
detector cannot look ahead.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from papertape.engine.errors import ConfigError, ModelError
from papertape.ml.regime.base import FitContext, FloatArray, RegimeDetector

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["HeuristicDetector"]

WEIGHTS_FILE = "heuristic.json"


class HeuristicDetector(RegimeDetector):
    """Volatility-percentile regimes with a trend penalty (no learning beyond percentiles)."""

    kind: ClassVar[str] = "heuristic"
    defaults: ClassVar[dict[str, Any]] = {
        "calm_pct": 50.0,
        "volatile_pct": 85.0,
        "trend_weight": 0.5,
        "softness": 0.15,
    }

    def __init__(self, n_regimes: int = 3, **hyperparameters: Any) -> None:
        super().__init__(n_regimes, **hyperparameters)
        hp = self.hyperparameters
        if not 0.0 < hp["calm_pct"] < hp["volatile_pct"] < 100.0:
            raise ConfigError(
                "heuristic.calm_pct",
                (hp["calm_pct"], hp["volatile_pct"]),
                "need 0 < calm_pct < volatile_pct < 100",
            )
        if hp["softness"] <= 0.0 or hp["trend_weight"] < 0.0:
            raise ConfigError(
                "heuristic.softness",
                (hp["softness"], hp["trend_weight"]),
                "softness must be > 0 and trend_weight >= 0",
            )
        self.vol_col = -1
        self.trend_col = -1
        self.thresholds = np.zeros(0)
        self.width = 1.0

    def _score(self, rows: FloatArray) -> FloatArray:
        score = rows[..., self.vol_col].astype(np.float64, copy=True)
        if self.trend_col >= 0:
            score += self.hyperparameters["trend_weight"] * np.maximum(
                0.0, -rows[..., self.trend_col]
            )
        return score

    def _probs(self, rows: FloatArray) -> FloatArray:
        s = self._score(rows)[..., None]
        # c[j] = P(score above threshold j); decreasing in j because thresholds increase
        c = 1.0 / (1.0 + np.exp(-(s - self.thresholds) / self.width))
        ones = np.ones_like(s)
        zeros = np.zeros_like(s)
        upper = np.concatenate([ones, c], axis=-1)
        lower = np.concatenate([c, zeros], axis=-1)
        out: FloatArray = np.clip(upper - lower, 0.0, 1.0)
        out /= out.sum(axis=-1, keepdims=True)
        return out

    def fit(self, rows: FloatArray, ctx: FitContext) -> dict[str, Any]:
        """Take the score percentiles of the training rows as thresholds."""
        hp = self.hyperparameters
        self.vol_col = ctx.column("volatility")
        self.trend_col = ctx.column("trend") if ctx.column("trend") >= 0 else ctx.column("momentum")
        if self.vol_col < 0:
            raise ModelError("the heuristic detector needs the 'volatility' feature")
        if len(rows) < 10:
            raise ModelError(f"the heuristic detector needs >= 10 training rows, got {len(rows)}")
        ctx.report("percentiles", 0, 1)
        score = self._score(rows)
        k = self.n_regimes
        pcts = (
            [hp["volatile_pct"]]
            if k == 2
            else np.linspace(hp["calm_pct"], hp["volatile_pct"], k - 1)
        )
        self.thresholds = np.percentile(score, pcts)
        self.width = max(float(score.std()) * hp["softness"], 1e-6)
        self.fitted = True
        ctx.report("percentiles", 1, 1)
        labels = self._probs(rows).argmax(axis=1)
        return {
            "thresholds": [float(v) for v in self.thresholds],
            "width": self.width,
            "train_share": {n: float(np.mean(labels == i)) for i, n in enumerate(self.names)},
        }

    def filter(self, rows: FloatArray) -> FloatArray:
        """Row-wise probabilities (each row on its own)."""
        self.require_fitted()
        return self._probs(np.asarray(rows, dtype=np.float64))

    def online(self) -> _HeuristicState:
        """A stateless per-symbol state."""
        self.require_fitted()
        return _HeuristicState(self)

    def save_weights(self, directory: Path) -> list[str]:
        """Write thresholds and columns as JSON."""
        self.require_fitted()
        data = {
            "thresholds": [float(v) for v in self.thresholds],
            "width": self.width,
            "vol_col": self.vol_col,
            "trend_col": self.trend_col,
        }
        (directory / WEIGHTS_FILE).write_text(json.dumps(data, indent=2), encoding="utf-8")
        return [WEIGHTS_FILE]

    def load_weights(self, directory: Path, n_features: int) -> None:
        """Read what :meth:`save_weights` wrote."""
        try:
            data = json.loads((directory / WEIGHTS_FILE).read_text(encoding="utf-8"))
            self.thresholds = np.asarray(data["thresholds"], dtype=np.float64)
            self.width = float(data["width"])
            self.vol_col = int(data["vol_col"])
            self.trend_col = int(data["trend_col"])
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"cannot read heuristic weights in {directory}: {exc}") from exc
        if len(self.thresholds) != self.n_regimes - 1:
            raise ModelError(
                f"{directory}: {len(self.thresholds)} thresholds for {self.n_regimes} regimes"
            )
        self.fitted = True


class _HeuristicState:
    __slots__ = ("_detector",)

    def __init__(self, detector: HeuristicDetector) -> None:
        self._detector = detector

    def step(self, row: FloatArray) -> FloatArray | None:
        out: FloatArray = self._detector._probs(row)
        return out
