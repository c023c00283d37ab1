"""Variational autoencoder over short feature windows, with KMeans on the latent means.

The encoder maps the last ``window`` scaled feature rows (flattened) to the mean and log
variance of a small Gaussian latent; the decoder reconstructs the window from a sample drawn
with the reparameterisation trick ``z = mu + exp(logvar / 2) × eps``. The loss is the squared
reconstruction error plus ``beta`` × the KL divergence to N(0, I).

After training, KMeans (``k = n_regimes``) clusters the latent *means* of the training windows;
clusters are reordered by the mean volatility feature of their windows' last rows (calm first).
A new window gets soft cluster probabilities ``∝ exp(−‖mu − c_k‖² / 2τ)`` with τ the mean
within-cluster squared distance per latent dimension on the training windows. Each answer
depends only on the window ending at that bar.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
from sklearn.cluster import KMeans
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
from papertape.ml.regime.base import (
    FitContext,
    FloatArray,
    softmax_rows,
)

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["VaeDetector"]

NET_FILE = "vae.pt"
CLUSTER_FILE = "vae_kmeans.npz"


class _Vae(nn.Module):
    def __init__(self, n_in: int, hidden: int, latent: int) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU()
        )
        self.mu = nn.Linear(hidden, latent)
        self.logvar = nn.Linear(hidden, latent)
        self.decoder = nn.Sequential(
            nn.Linear(latent, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, n_in),
        )

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(x)
        return self.mu(h), self.logvar(h)

    def forward(self, x: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, ...]:
        mu, logvar = self.encode(x)
        z = mu + torch.exp(0.5 * logvar) * eps
        return self.decoder(z), mu, logvar


def vae_loss(
    x: torch.Tensor, recon: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, beta: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Total, reconstruction and KL terms, each summed over dimensions and averaged over rows."""
    rec = ((recon - x) ** 2).sum(dim=1).mean()
    kl = (-0.5 * (1.0 + logvar - mu**2 - logvar.exp()).sum(dim=1)).mean()
    return rec + beta * kl, rec, kl


class VaeDetector(WindowDetector):
    """VAE latents + KMeans regimes."""

    kind: ClassVar[str] = "vae"
    defaults: ClassVar[dict[str, Any]] = {
        "window": 5,
        "latent_dim": 2,
        "hidden": 32,
        "epochs": 60,
        "batch_size": 128,
        "lr": 2e-3,
        "beta": 1.0,
        "kmeans_n_init": 10,
    }

    def __init__(self, n_regimes: int = 3, **hyperparameters: Any) -> None:
        super().__init__(n_regimes, **hyperparameters)
        hp = self.hyperparameters
        for key in ("window", "latent_dim", "hidden", "epochs", "batch_size", "kmeans_n_init"):
            if hp[key] < 1:
                raise ConfigError(f"vae.{key}", hp[key], "must be >= 1")
        if hp["lr"] <= 0 or hp["beta"] < 0:
            raise ConfigError("vae.lr", (hp["lr"], hp["beta"]), "lr must be > 0 and beta >= 0")
        self.net: _Vae | None = None
        self.n_features = 0
        self.centroids = np.zeros((0, 0))
        self.tau = 1.0

    def _build(self, n_features: int) -> _Vae:
        hp = self.hyperparameters
        self.n_features = n_features
        return _Vae(n_features * hp["window"], hp["hidden"], hp["latent_dim"])

    def fit(self, rows: FloatArray, ctx: FitContext) -> dict[str, Any]:
        """Train the VAE, then cluster the latent means."""
        hp = self.hyperparameters
        vol_col = ctx.column("volatility")
        if vol_col < 0:
            raise ModelError("the VAE detector needs the 'volatility' feature to order clusters")
        windows = sliding_windows(rows, hp["window"])
        n = len(windows)
        if n < 10 * self.n_regimes:
            raise ModelError(f"the VAE needs more training windows than {n}")
        x = torch.from_numpy(windows.reshape(n, -1).astype(np.float32))
        with seeded(ctx.seed) as gen:
            net = self._build(rows.shape[1])
            opt = torch.optim.Adam(net.parameters(), lr=hp["lr"])
            net.train()
            rec_sum = kl_sum = 0.0
            for epoch in range(hp["epochs"]):
                perm = torch.randperm(n, generator=gen)
                rec_sum = kl_sum = 0.0
                for start in range(0, n, hp["batch_size"]):
                    batch = x[perm[start : start + hp["batch_size"]]]
                    eps = torch.randn(len(batch), hp["latent_dim"], generator=gen)
                    recon, mu, logvar = net(batch, eps)
                    loss, rec, kl = vae_loss(batch, recon, mu, logvar, hp["beta"])
                    opt.zero_grad()
                    loss.backward()  # type: ignore[no-untyped-call]
                    opt.step()
                    rec_sum += float(rec.detach()) * len(batch)
                    kl_sum += float(kl.detach()) * len(batch)
                ctx.report("epochs", epoch + 1, hp["epochs"])
        net.eval()
        self.net = net
        latent = self._latent(x)
        km = KMeans(n_clusters=self.n_regimes, n_init=hp["kmeans_n_init"], random_state=ctx.seed)
        raw = km.fit_predict(latent)
        last_vol = windows[:, -1, vol_col]
        means = [
            float(last_vol[raw == g].mean()) if np.any(raw == g) else np.inf
            for g in range(self.n_regimes)
        ]
        order = np.argsort(means, kind="stable")
        self.centroids = np.ascontiguousarray(km.cluster_centers_[order], dtype=np.float64)
        assigned = np.argsort(order)[raw]  # old label -> new label
        d2 = ((latent - self.centroids[assigned]) ** 2).sum(axis=1)
        self.tau = max(float(d2.mean()) / hp["latent_dim"], 1e-6)
        self.fitted = True
        return {
            "reconstruction_loss": rec_sum / n,
            "kl": kl_sum / n,
            "kmeans_inertia": float(km.inertia_),
            "tau": self.tau,
            "cluster_mean_volatility": {
                nm: means[o] for nm, o in zip(self.names, order, strict=True)
            },
            "train_share": {nm: float(np.mean(assigned == j)) for j, nm in enumerate(self.names)},
        }

    def _latent(self, flat: torch.Tensor) -> FloatArray:
        assert self.net is not None
        with torch.inference_mode():
            mu, _ = self.net.encode(flat)
        out: FloatArray = mu.numpy().astype(np.float64)
        return out

    def _probs(self, latent: FloatArray) -> FloatArray:
        d2 = ((latent[:, None, :] - self.centroids[None, :, :]) ** 2).sum(axis=2)
        return softmax_rows(-d2 / (2.0 * self.tau))

    def _predict_windows(self, windows: FloatArray) -> FloatArray:
        flat = torch.from_numpy(windows.reshape(len(windows), -1).astype(np.float32))
        return self._probs(self._latent(flat))

    def _step_window(self, window: FloatArray) -> FloatArray:
        with one_thread():
            flat = torch.from_numpy(window.reshape(1, -1).astype(np.float32))
            out: FloatArray = self._probs(self._latent(flat))[0]
        return out

    def save_weights(self, directory: Path) -> list[str]:
        """Write the network's ``state_dict`` and the ordered centroids."""
        self.require_fitted()
        assert self.net is not None
        save_state(self.net, directory / NET_FILE)
        np.savez(
            directory / CLUSTER_FILE,
            centroids=self.centroids,
            tau=np.float64(self.tau),
            n_features=np.int64(self.n_features),
        )
        return [NET_FILE, CLUSTER_FILE]

    def load_weights(self, directory: Path, n_features: int) -> None:
        """Read what :meth:`save_weights` wrote."""
        try:
            with np.load(directory / CLUSTER_FILE, allow_pickle=False) as z:
                self.centroids = np.asarray(z["centroids"], dtype=np.float64)
                self.tau = float(z["tau"])
                stored = int(z["n_features"])
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"cannot read VAE clusters in {directory}: {exc}") from exc
        if self.centroids.shape[0] != self.n_regimes:
            raise ModelError(
                f"{directory}: {self.centroids.shape[0]} clusters, expected {self.n_regimes}"
            )
        if stored != n_features:
            raise ModelError(f"{directory}: VAE was trained on {stored} features, not {n_features}")
        with seeded(0):
            self.net = self._build(n_features)
        load_state(self.net, directory / NET_FILE)
        self.fitted = True
