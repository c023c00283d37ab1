"""Transformer encoder classifying the regime from the last 16 feature rows.

Training is supervised by a *teacher*: an HMM (default) or a VAE + KMeans detector is fitted on
the same training rows, and its forward-filtered labels (never smoothed) become the targets.
The classifier sees a window of scaled feature rows ending at bar ``t`` (a linear projection
plus learned positional embeddings, ``layers`` encoder layers, the last position's output
through a layer norm and a linear head) and predicts the teacher's regime at ``t``. Its
confidence is the largest softmax probability.

The last ``val_fraction`` of the training windows (chronologically) is held out; the weights
of the epoch with the lowest held-out loss are kept. Classes are weighted by inverse frequency,
so a rare volatile regime is not ignored. Everything is seeded and runs on the CPU.
"""

from __future__ import annotations

import copy
import math
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
from torch import nn

from papertape.engine.errors import ConfigError, ModelError
from papertape.ml.regime._torch import (
    WindowDetector,
    load_state,
    one_thread,
    save_state,
    seeded,
    sliding_windows,
)
from papertape.ml.regime.base import FitContext, FloatArray, RegimeDetector
from papertape.ml.regime.hmm import HmmDetector
from papertape.ml.regime.vae import VaeDetector

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["TransformerDetector"]

NET_FILE = "transformer.pt"


class _Classifier(nn.Module):
    def __init__(self, n_features: int, hp: dict[str, Any], n_classes: int) -> None:
        super().__init__()
        d = hp["d_model"]
        self.proj = nn.Linear(n_features, d)
        self.pos = nn.Parameter(torch.randn(1, hp["window"], d) * 0.02)
        layer = nn.TransformerEncoderLayer(
            d,
            hp["nhead"],
            hp["ff"],
            hp["dropout"],
            batch_first=True,
        )
        self.encoder = nn.TransformerEncoder(layer, hp["layers"], enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.encoder(self.proj(x) + self.pos)
        out: torch.Tensor = self.head(self.norm(h[:, -1]))
        return out


class TransformerDetector(WindowDetector):
    """Sequence classifier distilled from an HMM or VAE teacher."""

    kind: ClassVar[str] = "transformer"
    defaults: ClassVar[dict[str, Any]] = {
        "window": 16,
        "d_model": 32,
        "nhead": 4,
        "layers": 2,
        "ff": 64,
        "dropout": 0.1,
        "epochs": 20,
        "batch_size": 64,
        "lr": 1e-3,
        "weight_decay": 1e-4,
        "val_fraction": 0.15,
        "teacher": "hmm",
    }

    def __init__(self, n_regimes: int = 3, **hyperparameters: Any) -> None:
        super().__init__(n_regimes, **hyperparameters)
        hp = self.hyperparameters
        if hp["teacher"] not in ("hmm", "vae"):
            raise ConfigError("transformer.teacher", hp["teacher"], "must be hmm or vae")
        for key in ("window", "d_model", "nhead", "layers", "ff", "epochs", "batch_size"):
            if hp[key] < 1:
                raise ConfigError(f"transformer.{key}", hp[key], "must be >= 1")
        if hp["d_model"] % hp["nhead"]:
            raise ConfigError("transformer.nhead", hp["nhead"], "must divide d_model")
        if not 0.0 <= hp["val_fraction"] < 0.5 or not 0.0 <= hp["dropout"] < 1.0:
            raise ConfigError("transformer.val_fraction", hp["val_fraction"], "must be in [0, 0.5)")
        self.net: _Classifier | None = None
        self.n_features = 0

    def _build(self, n_features: int) -> _Classifier:
        self.n_features = n_features
        return _Classifier(n_features, self.hyperparameters, self.n_regimes)

    def _teacher_labels(
        self, rows: FloatArray, ctx: FitContext
    ) -> tuple[np.ndarray, dict[str, Any]]:
        teacher: RegimeDetector = (
            HmmDetector(self.n_regimes)
            if self.hyperparameters["teacher"] == "hmm"
            else VaeDetector(self.n_regimes)
        )
        tctx = FitContext(
            ctx.feature_names,
            ctx.seed,
            (lambda stage, i, n: ctx.report(f"teacher {stage}", i, n)) if ctx.progress else None,
        )
        metrics = teacher.fit(rows, tctx)
        probs = teacher.filter(rows)
        labels = np.where(np.isfinite(probs).all(axis=1), np.nan_to_num(probs).argmax(axis=1), -1)
        return labels, {
            "kind": teacher.kind,
            "hyperparameters": teacher.hyperparameters,
            "metrics": metrics,
        }

    def fit(self, rows: FloatArray, ctx: FitContext) -> dict[str, Any]:
        """Fit the teacher, then train the classifier on its filtered labels."""
        hp = self.hyperparameters
        rows = np.asarray(rows, dtype=np.float64)
        labels, teacher = self._teacher_labels(rows, ctx)
        w = hp["window"]
        windows = sliding_windows(rows, w)
        targets = labels[w - 1 :]
        keep = targets >= 0
        windows, targets = windows[keep], targets[keep]
        n = len(windows)
        n_val = int(n * hp["val_fraction"])
        n_train = n - n_val
        if n_train < 10 * self.n_regimes:
            raise ModelError(f"the transformer needs more training windows than {n_train}")
        x = torch.from_numpy(windows.astype(np.float32))
        y = torch.from_numpy(targets.astype(np.int64))
        counts = np.bincount(targets[:n_train], minlength=self.n_regimes).astype(np.float64)
        weights = np.where(counts > 0, counts.sum() / np.maximum(counts, 1.0) / self.n_regimes, 0.0)
        weights = np.clip(weights, 0.0, 10.0)
        loss_fn = nn.CrossEntropyLoss(weight=torch.from_numpy(weights.astype(np.float32)))
        best_state: dict[str, torch.Tensor] | None = None
        best_loss, best_epoch, train_loss = math.inf, 0, math.nan
        with seeded(ctx.seed) as gen:
            net = self._build(rows.shape[1])
            opt = torch.optim.AdamW(net.parameters(), lr=hp["lr"], weight_decay=hp["weight_decay"])
            for epoch in range(hp["epochs"]):
                net.train()
                perm = torch.randperm(n_train, generator=gen)
                total = 0.0
                for start in range(0, n_train, hp["batch_size"]):
                    idx = perm[start : start + hp["batch_size"]]
                    loss = loss_fn(net(x[idx]), y[idx])
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    total += float(loss.detach()) * len(idx)
                train_loss = total / n_train
                net.eval()
                val_loss = (
                    self._loss(net, loss_fn, x[n_train:], y[n_train:]) if n_val else train_loss
                )
                if val_loss < best_loss:
                    best_loss, best_epoch = val_loss, epoch + 1
                    best_state = copy.deepcopy(net.state_dict())
                ctx.report("epochs", epoch + 1, hp["epochs"])
        assert best_state is not None
        net.load_state_dict(best_state)
        net.eval()
        self.net = net
        self.fitted = True
        pred = self._predict_windows(windows).argmax(axis=1)
        return {
            "teacher": teacher,
            "train_loss_last_epoch": train_loss,
            "best_val_loss": best_loss,
            "best_epoch": best_epoch,
            "train_accuracy": float(np.mean(pred[:n_train] == targets[:n_train])),
            "val_accuracy": float(np.mean(pred[n_train:] == targets[n_train:])) if n_val else None,
            "val_windows": n_val,
            "train_windows": n_train,
            "class_weights": {nm: float(v) for nm, v in zip(self.names, weights, strict=True)},
        }

    @staticmethod
    def _loss(net: nn.Module, loss_fn: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
        with torch.inference_mode():
            return float(loss_fn(net(x), y))

    def _predict_windows(self, windows: FloatArray, batch: int = 2048) -> FloatArray:
        assert self.net is not None
        out = np.empty((len(windows), self.n_regimes))
        with torch.inference_mode():
            for start in range(0, len(windows), batch):
                chunk = torch.from_numpy(windows[start : start + batch].astype(np.float32))
                out[start : start + batch] = torch.softmax(self.net(chunk), dim=1).numpy()
        return out

    def _step_window(self, window: FloatArray) -> FloatArray:
        assert self.net is not None
        with one_thread(), torch.inference_mode():
            logits = self.net(torch.from_numpy(window[None].astype(np.float32)))
            out: FloatArray = torch.softmax(logits, dim=1).numpy()[0].astype(np.float64)
        return out

    def save_weights(self, directory: Path) -> list[str]:
        """Write the network's ``state_dict`` (architecture comes from the hyperparameters)."""
        self.require_fitted()
        assert self.net is not None
        save_state(self.net, directory / NET_FILE)
        return [NET_FILE]

    def load_weights(self, directory: Path, n_features: int) -> None:
        """Read ``transformer.pt`` into a network rebuilt from the hyperparameters."""
        with seeded(0):
            self.net = self._build(n_features)
        load_state(self.net, directory / NET_FILE)
        self.fitted = True
