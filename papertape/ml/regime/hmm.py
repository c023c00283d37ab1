"""Gaussian hidden Markov model (hmmlearn) used as a forward filter.

Fitting uses hmmlearn's Baum-Welch (EM) with a few restarts: the first starts from volatility
quantile bands (deterministic), the others from hmmlearn's seeded KMeans initialisation; the
best log-likelihood wins. After every fit the hidden states are permuted so that state 0 has
the lowest mean volatility feature and the last state the highest: labels mean the same thing
across refits.

Inference never calls hmmlearn's ``predict``/``predict_proba`` (they smooth with the backward
pass, i.e. use the future). It runs the forward recursion only::

    prior_t = alpha_{t-1} @ A            (alpha_{-1} @ A := startprob)
    alpha_t ∝ prior_t × N(x_t | mu_k, Sigma_k)

one matrix-vector product and K Gaussian densities per bar. The parameters are stored as a
plain ``.npz`` (no pickle).
"""

from __future__ import annotations

import logging
import math
import warnings
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from hmmlearn.hmm import GaussianHMM

from papertape.engine.errors import ConfigError, ModelError
from papertape.ml.regime.base import FitContext, FloatArray, RegimeDetector, order_by_volatility

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["HmmDetector"]

WEIGHTS_FILE = "hmm.npz"
_LOG_2PI = math.log(2.0 * math.pi)


class HmmDetector(RegimeDetector):
    """Gaussian HMM with full covariances, filtered forward only."""

    kind: ClassVar[str] = "hmm"
    defaults: ClassVar[dict[str, Any]] = {
        "covariance_type": "full",
        "n_iter": 200,
        "tol": 1e-3,
        "n_init": 3,
        "min_covar": 1e-3,
    }

    def __init__(self, n_regimes: int = 3, **hyperparameters: Any) -> None:
        super().__init__(n_regimes, **hyperparameters)
        hp = self.hyperparameters
        if hp["covariance_type"] not in ("full", "diag"):
            raise ConfigError("hmm.covariance_type", hp["covariance_type"], "must be full or diag")
        if hp["n_init"] < 1 or hp["n_iter"] < 1:
            raise ConfigError("hmm.n_init", (hp["n_init"], hp["n_iter"]), "n_init and n_iter >= 1")
        empty: FloatArray = np.zeros(0)
        self.startprob = self.transmat = self.means = self.covars = empty
        self._precision = self._log_norm = empty

    # -----------------------------------------------------------------------------------------
    # fitting
    # -----------------------------------------------------------------------------------------

    def fit(self, rows: FloatArray, ctx: FitContext) -> dict[str, Any]:
        """Baum-Welch with ``n_init`` seeded restarts; states sorted by volatility."""
        hp = self.hyperparameters
        x = np.asarray(rows, dtype=np.float64)
        k, d = self.n_regimes, x.shape[1]
        if len(x) < 10 * k * (d + 1):
            raise ModelError(f"the HMM needs more training rows than {len(x)} for {k} states")
        vol_col = ctx.column("volatility")
        if vol_col < 0:
            raise ModelError("the HMM detector needs the 'volatility' feature to order states")
        best: Any = None
        best_score = -math.inf
        converged = False
        logging.getLogger("hmmlearn").setLevel(logging.ERROR)
        for i in range(hp["n_init"]):
            ctx.report("restarts", i, hp["n_init"])
            model = GaussianHMM(
                n_components=k,
                covariance_type=hp["covariance_type"],
                n_iter=hp["n_iter"],
                tol=hp["tol"],
                min_covar=hp["min_covar"],
                random_state=ctx.seed + i,
                init_params="st" if i == 0 else "stmc",
            )
            if i == 0:
                model.means_, model.covars_ = _volatility_init(x, vol_col, k, hp["covariance_type"])
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model.fit(x)
                score = float(model.score(x))
            except (ValueError, np.linalg.LinAlgError) as exc:
                raise ModelError(f"HMM fit failed (restart {i}): {exc}") from exc
            if math.isfinite(score) and score > best_score:
                best, best_score, converged = model, score, bool(model.monitor_.converged)
        ctx.report("restarts", hp["n_init"], hp["n_init"])
        if best is None:
            raise ModelError("no HMM restart produced a finite likelihood")
        order = np.argsort(best.means_[:, vol_col], kind="stable")
        covars = np.asarray(best.covars_, dtype=np.float64)  # always (k, d, d) in hmmlearn
        self._set_params(
            best.startprob_[order],
            best.transmat_[np.ix_(order, order)],
            best.means_[order],
            covars[order],
        )
        labels = self.filter(x).argmax(axis=1)
        check = order_by_volatility(labels.astype(np.int64), x[:, vol_col], k)
        n_params = (k - 1) + k * (k - 1) + k * d + (k * d * (d + 1) // 2)
        return {
            "log_likelihood": best_score,
            "log_likelihood_per_row": best_score / len(x),
            "bic": -2.0 * best_score + n_params * math.log(len(x)),
            "converged": converged,
            "expected_duration_bars": {
                n: _duration(float(self.transmat[j, j])) for j, n in enumerate(self.names)
            },
            "transmat": self.transmat.round(6).tolist(),
            "train_share_filtered": {
                n: float(np.mean(labels == j)) for j, n in enumerate(self.names)
            },
            "filtered_order_consistent": bool((check == np.arange(k)).all()),
        }

    def _set_params(
        self, startprob: FloatArray, transmat: FloatArray, means: FloatArray, covars: FloatArray
    ) -> None:
        self.startprob = np.ascontiguousarray(startprob, dtype=np.float64)
        self.transmat = np.ascontiguousarray(transmat, dtype=np.float64)
        self.means = np.ascontiguousarray(means, dtype=np.float64)
        self.covars = np.ascontiguousarray(covars, dtype=np.float64)
        try:
            self._precision = np.asarray(np.linalg.inv(self.covars), dtype=np.float64)
            sign, logdet = np.linalg.slogdet(self.covars)
        except np.linalg.LinAlgError as exc:
            raise ModelError(f"HMM covariance is singular: {exc}") from exc
        if (sign <= 0).any():
            raise ModelError("HMM covariance is not positive definite")
        d = self.means.shape[1]
        self._log_norm = -0.5 * (d * _LOG_2PI + logdet)
        self.fitted = True

    # -----------------------------------------------------------------------------------------
    # forward filtering
    # -----------------------------------------------------------------------------------------

    def log_emission(self, rows: FloatArray) -> FloatArray:
        """``log N(x_t | mu_k, Sigma_k)`` for every row and state, shape ``(T, K)``."""
        diff = np.asarray(rows, dtype=np.float64)[:, None, :] - self.means[None, :, :]
        maha = np.einsum("tkd,kde,tke->tk", diff, self._precision, diff)
        out: FloatArray = self._log_norm[None, :] - 0.5 * maha
        return out

    def filter(self, rows: FloatArray) -> FloatArray:
        """Forward-filtered state probabilities; row ``t`` uses ``rows[:t+1]`` only."""
        self.require_fitted()
        log_e = self.log_emission(rows)
        out = np.empty_like(log_e)
        alpha: FloatArray | None = None
        a = self.transmat
        for t in range(len(log_e)):
            alpha = _forward_step(alpha, log_e[t], self.startprob, a)
            out[t] = alpha
        return out

    def online(self) -> _HmmState:
        """A per-symbol forward-filter state."""
        self.require_fitted()
        return _HmmState(self)

    def expected_durations(self) -> dict[str, float]:
        """Expected stay in each state, in bars: ``1 / (1 − A_kk)``."""
        self.require_fitted()
        return {n: _duration(float(self.transmat[j, j])) for j, n in enumerate(self.names)}

    # -----------------------------------------------------------------------------------------
    # persistence
    # -----------------------------------------------------------------------------------------

    def save_weights(self, directory: Path) -> list[str]:
        """Write start probabilities, transitions, means and covariances as ``hmm.npz``."""
        self.require_fitted()
        np.savez(
            directory / WEIGHTS_FILE,
            startprob=self.startprob,
            transmat=self.transmat,
            means=self.means,
            covars=self.covars,
        )
        return [WEIGHTS_FILE]

    def load_weights(self, directory: Path, n_features: int) -> None:
        """Read ``hmm.npz``."""
        try:
            with np.load(directory / WEIGHTS_FILE, allow_pickle=False) as z:
                params = (z["startprob"], z["transmat"], z["means"], z["covars"])
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"cannot read HMM weights in {directory}: {exc}") from exc
        if params[0].shape != (self.n_regimes,):
            raise ModelError(
                f"{directory}: HMM has {params[0].shape[0]} states, expected {self.n_regimes}"
            )
        if params[2].shape != (self.n_regimes, n_features):
            raise ModelError(f"{directory}: HMM means have shape {params[2].shape}")
        self._set_params(*params)


def _volatility_init(
    x: FloatArray, vol_col: int, k: int, covariance_type: str
) -> tuple[FloatArray, FloatArray]:
    """Start means and covariances from ``k`` volatility quantile bands (deterministic)."""
    order = np.argsort(x[:, vol_col], kind="stable")
    groups = np.array_split(order, k)
    means = np.stack([x[g].mean(axis=0) for g in groups])
    ridge = 1e-3 * np.eye(x.shape[1])
    covs = np.stack([np.cov(x[g], rowvar=False) + ridge for g in groups])
    if covariance_type == "diag":
        return means, np.stack([np.diag(c) for c in covs])
    return means, covs


def _duration(stay: float) -> float:
    return math.inf if stay >= 1.0 else 1.0 / (1.0 - stay)


def _forward_step(
    alpha: FloatArray | None, log_e: FloatArray, startprob: FloatArray, transmat: FloatArray
) -> FloatArray:
    prior = startprob if alpha is None else alpha @ transmat
    w = prior * np.exp(log_e - log_e.max())
    total = float(w.sum())
    if not total > 0.0 or not math.isfinite(total):
        # every state gave the row (numerically) zero density: fall back on the prior
        fallback: FloatArray = prior / prior.sum()
        return fallback
    out: FloatArray = w / total
    return out


class _HmmState:
    __slots__ = ("_alpha", "_det")

    def __init__(self, detector: HmmDetector) -> None:
        self._det = detector
        self._alpha: FloatArray | None = None

    def step(self, row: FloatArray) -> FloatArray | None:
        det = self._det
        diff = row - det.means
        maha = np.einsum("kd,kde,ke->k", diff, det._precision, diff)
        log_e = det._log_norm - 0.5 * maha
        self._alpha = _forward_step(self._alpha, log_e, det.startprob, det.transmat)
        return self._alpha
