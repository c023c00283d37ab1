"""The LSTM direction classifier: training, walk-forward evaluation, saving and loading."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from papertape.engine.errors import DataError, ModelError
from papertape.ml.lstm.features import FEATURES, WARMUP, feature_matrix, labels
from papertape.ml.registry import read_metadata, resolve_version, write_version

if TYPE_CHECKING:
    from papertape.engine.feeds.base import BarSeries

__all__ = [
    "DirectionModel",
    "direction_metrics",
    "predict_window",
    "train_direction",
    "walk_forward",
    "year_bounds",
]

WEIGHTS = "lstm.pt"


def _windows(x: NDArray[np.float32], rows: NDArray[np.int64], lookback: int) -> NDArray[np.float32]:
    return np.stack([x[r - lookback + 1 : r + 1] for r in rows]).astype(np.float32)


@dataclass
class DirectionModel:
    """A trained LSTM with its settings; ``prob_up`` maps a feature window to P(up)."""

    net: Any
    lookback: int
    horizon: int
    metadata: dict[str, Any]

    def prob_up(self, features: NDArray[np.float32]) -> NDArray[np.float64]:
        """P(up) for each window of ``lookback`` rows (``features``: windows × lookback × F)."""
        import torch

        with torch.no_grad():
            logits = self.net(torch.from_numpy(np.ascontiguousarray(features)))
        return torch.sigmoid(logits).numpy().astype(np.float64).reshape(-1)

    def save(self, out: str | Path, extra: dict[str, Any]) -> Path:
        """Write a new registry version (weights + metadata)."""
        import torch

        def write(folder: Path) -> list[str]:
            torch.save(self.net.state_dict(), folder / WEIGHTS)
            return [WEIGHTS]

        return write_version(out, write, {**self.metadata, **extra})

    @classmethod
    def load(cls, path: str | Path) -> DirectionModel:
        """Load a saved model (a version folder or a model folder's latest version)."""
        import torch

        folder = resolve_version(path)
        meta = read_metadata(folder)
        if meta.get("kind") != "lstm_direction":
            raise ModelError(f"{folder} is not an LSTM direction model")
        net = _net(int(meta["hidden"]))
        try:
            net.load_state_dict(torch.load(folder / WEIGHTS, weights_only=True))
        except (OSError, RuntimeError) as exc:
            raise ModelError(f"cannot load {folder / WEIGHTS}: {exc}") from exc
        net.eval()
        return cls(net, int(meta["lookback"]), int(meta["horizon"]), meta)


def _net(hidden: int) -> Any:
    import torch
    from torch import nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(len(FEATURES), hidden, batch_first=True)
            self.head = nn.Linear(hidden, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out, _ = self.lstm(x)
            logits: torch.Tensor = self.head(out[:, -1, :]).squeeze(-1)
            return logits

    return Net()


def train_direction(
    series: BarSeries,
    end: int | None = None,
    *,
    lookback: int = 30,
    horizon: int = 5,
    hidden: int = 16,
    epochs: int = 5,
    seed: int = 7,
) -> DirectionModel:
    """Train on the bars opening before ``end`` whose label is known before ``end`` too.

    Raises:
        DataError: Too few bars to train.
    """
    import torch

    torch.manual_seed(seed)
    np.random.seed(seed)
    x = feature_matrix(series.high, series.low, series.close, series.volume)
    y = labels(series.close, horizon)
    last = len(series) if end is None else int(np.searchsorted(series.time, end))
    rows = np.arange(max(WARMUP, lookback - 1) + WARMUP, last - horizon, dtype=np.int64)
    if len(rows) < 50:
        raise DataError(f"only {len(rows)} training windows: give more data")
    xs = torch.from_numpy(_windows(x, rows, lookback))
    ys = torch.from_numpy(y[rows].astype(np.float32))
    net = _net(hidden)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        perm = torch.randperm(len(rows), generator=gen)
        for i in range(0, len(rows), 64):
            idx = perm[i : i + 64]
            opt.zero_grad()
            loss = loss_fn(net(xs[idx]), ys[idx])
            loss.backward()
            opt.step()
    net.eval()
    meta = {
        "kind": "lstm_direction",
        "features": list(FEATURES),
        "lookback": lookback,
        "horizon": horizon,
        "hidden": hidden,
        "epochs": epochs,
        "seed": seed,
        "train_rows": len(rows),
        "train_last": str(np.datetime64(int(series.time[rows[-1]]), "ns")),
    }
    return DirectionModel(net, lookback, horizon, meta)


def _auc(y: NDArray[np.float64], p: NDArray[np.float64]) -> float:
    order = np.argsort(p, kind="mergesort")
    ranks = np.empty(len(p))
    ranks[order] = np.arange(1, len(p) + 1)
    pos = y == 1.0
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return math.nan
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def year_bounds(year: int) -> tuple[int, int]:
    """The first instant of ``year`` and of the next year, in ns (UTC)."""
    start = int(np.datetime64(f"{year}-01-01", "ns").astype(np.int64))
    return start, int(np.datetime64(f"{year + 1}-01-01", "ns").astype(np.int64))


def predict_window(
    series: BarSeries, model: DirectionModel, start: int, end: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """P(up) and the realised label of every labelled bar opening in ``[start, end)``.

    Raises:
        DataError: No labelled bar in the window.
    """
    x = feature_matrix(series.high, series.low, series.close, series.volume)
    y = labels(series.close, model.horizon)
    rows = np.flatnonzero((series.time >= start) & (series.time < end) & ~np.isnan(y))
    if len(rows) == 0:
        when = str(np.datetime64(start, "ns"))[:10]
        raise DataError(f"no labelled bars in the window starting {when}")
    return model.prob_up(_windows(x, rows.astype(np.int64), model.lookback)), y[rows]


def direction_metrics(p: NDArray[np.float64], t: NDArray[np.float64]) -> dict[str, float]:
    """Accuracy (at 0.5), AUC, Brier score and base rate of predictions ``p`` of labels ``t``."""
    return {
        "n": float(len(p)),
        "accuracy": float(np.mean((p > 0.5) == (t == 1.0))),
        "auc": _auc(t, p),
        "brier": float(np.mean((p - t) ** 2)),
        "base_rate_up": float(np.mean(t)),
    }


def walk_forward(series: BarSeries, test_years: list[int], **settings: Any) -> dict[str, float]:
    """Train before each test year, predict it; out-of-sample accuracy, AUC, Brier, base rate."""
    probs, truth = [], []
    for year in test_years:
        start, end = year_bounds(year)
        model = train_direction(series, start, **settings)
        p, t = predict_window(series, model, start, end)
        probs.append(p)
        truth.append(t)
    return direction_metrics(np.concatenate(probs), np.concatenate(truth))
