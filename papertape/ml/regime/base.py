"""The regime detector contract shared by the heuristic, HMM, VAE and Transformer detectors.

A detector works on *scaled* feature rows (see :mod:`ml.features`) and answers in regime
probabilities ordered from the calmest regime to the most volatile one. Two ways to ask:

* :meth:`RegimeDetector.filter` over a matrix: row ``t`` of the answer uses rows ``<= t`` only
  (forward filtering; never smoothing over later rows). Rows without an answer yet (a window
  still filling) are NaN.
* :meth:`RegimeDetector.online` returns a per-symbol :class:`DetectorState` that takes one row
  at a time; this is what the annotator runs inside the tick loop.

Both paths give the same numbers up to floating-point rounding of batched arithmetic.
Detectors save their weights as plain files (``.npz``, ``.json``, torch ``state_dict``); the
feature spec, scaler and metadata are written by :mod:`ml.regime.model`.
"""

from __future__ import annotations

import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np
from numpy.typing import NDArray

from papertape.engine.errors import ConfigError, ModelError
from papertape.engine.params import resolve_params

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "DetectorState",
    "FitContext",
    "Progress",
    "RegimeDetector",
    "RegimeReading",
    "WindowState",
    "order_by_volatility",
    "regime_names",
    "softmax_rows",
]

FloatArray = NDArray[np.float64]
Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: called during training (e.g. once per epoch)."""

_NAMES: dict[int, tuple[str, ...]] = {
    2: ("calm", "volatile"),
    3: ("calm", "transition", "volatile"),
    4: ("calm", "normal", "transition", "volatile"),
}


def regime_names(k: int) -> tuple[str, ...]:
    """Names of ``k`` regimes, calmest first.

    Raises:
        ConfigError: If ``k`` is not 2, 3 or 4.
    """
    try:
        return _NAMES[k]
    except KeyError:
        raise ConfigError("n_regimes", k, "must be 2, 3 or 4") from None


@dataclass(frozen=True, slots=True)
class RegimeReading:
    """The regime of one bar.

    Attributes:
        regime: Name of the most probable regime.
        index: Its position in :attr:`names` (0 = calmest).
        probs: Probability of each regime, calmest first (sums to 1).
        confidence: The detector's confidence in ``regime`` (the largest probability).
        names: Regime names, calmest first.
    """

    regime: str
    index: int
    probs: tuple[float, ...]
    confidence: float
    names: tuple[str, ...]

    @classmethod
    def from_probs(
        cls, probs: Sequence[float] | FloatArray, names: tuple[str, ...]
    ) -> RegimeReading:
        """Build a reading from a probability vector."""
        p = tuple(float(v) for v in probs)
        k = max(range(len(p)), key=p.__getitem__)
        return cls(names[k], k, p, p[k], names)

    def probs_by_name(self) -> dict[str, float]:
        """``{regime name: probability}``."""
        return dict(zip(self.names, self.probs, strict=True))


@dataclass(frozen=True, slots=True)
class FitContext:
    """What a detector may know about its training rows besides the numbers.

    Attributes:
        feature_names: Column names of the scaled rows.
        seed: Seed for every random number generator used in fitting.
        progress: Optional callback reporting training progress.
    """

    feature_names: tuple[str, ...]
    seed: int = 0
    progress: Progress | None = None

    def column(self, name: str) -> int:
        """Index of a feature column (``-1`` when absent)."""
        return self.feature_names.index(name) if name in self.feature_names else -1

    def report(self, stage: str, done: int, total: int) -> None:
        """Forward progress to the callback, if any."""
        if self.progress is not None:
            self.progress(stage, done, total)


class DetectorState(Protocol):
    """Forward-only inference state of one symbol."""

    def step(self, row: FloatArray) -> FloatArray | None:
        """Take the next scaled feature row; return regime probabilities or None (warming up)."""
        ...


class RegimeDetector(ABC):
    """Base class of regime detectors.

    Subclasses set ``kind`` and ``defaults`` (hyperparameters with default values) and
    implement :meth:`fit`, :meth:`filter`, :meth:`online`, :meth:`save_weights` and
    :meth:`load_weights`.

    Args:
        n_regimes: Number of regimes (2–4).
        **hyperparameters: Overrides of ``defaults`` (strings are coerced to the default's
            type); an unknown name raises UnknownParameter, a bad value ConfigError.
    """

    kind: ClassVar[str] = ""
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, n_regimes: int = 3, **hyperparameters: Any) -> None:
        self.names = regime_names(n_regimes)
        self.n_regimes = n_regimes
        self.hyperparameters = resolve_params(
            f"{self.kind} detector", self.defaults, hyperparameters, prefix=self.kind
        )
        self.fitted = False

    @property
    def warmup_rows(self) -> int:
        """Scaled rows needed before the first answer (1 for row-wise detectors)."""
        return 1

    @abstractmethod
    def fit(self, rows: FloatArray, ctx: FitContext) -> dict[str, Any]:
        """Fit on complete scaled training rows (oldest first).

        Returns:
            Training metrics (JSON-ready) stored in the model's metadata.
        """

    @abstractmethod
    def filter(self, rows: FloatArray) -> FloatArray:
        """Forward-filtered probabilities, shape ``(len(rows), n_regimes)``.

        Row ``t`` of the answer depends on ``rows[: t + 1]`` only.
        """

    @abstractmethod
    def online(self) -> DetectorState:
        """A fresh per-symbol inference state."""

    def predict_proba(self, rows: FloatArray) -> FloatArray:
        """Regime probabilities of the *latest* row, using only the rows given (the past).

        Raises:
            ModelError: If there are too few rows for an answer.
        """
        state = self.online()
        probs: FloatArray | None = None
        for row in np.asarray(rows, dtype=np.float64):
            probs = state.step(row)
        if probs is None:
            raise ModelError(
                f"{self.kind} detector needs at least {self.warmup_rows} rows, got {len(rows)}"
            )
        return probs

    @abstractmethod
    def save_weights(self, directory: Path) -> list[str]:
        """Write the fitted weights into ``directory``; return the file names written."""

    @abstractmethod
    def load_weights(self, directory: Path, n_features: int) -> None:
        """Read weights written by :meth:`save_weights` (hyperparameters are already set).

        Args:
            directory: The model version folder.
            n_features: Width of the scaled feature rows (from the model's feature spec).
        """

    def require_fitted(self) -> None:
        """Raise ModelError when used before :meth:`fit` or :meth:`load_weights`."""
        if not self.fitted:
            raise ModelError(f"the {self.kind} detector is not fitted yet")


def order_by_volatility(labels: NDArray[np.int64], vol: FloatArray, k: int) -> NDArray[np.int64]:
    """Permutation putting groups in increasing mean volatility.

    Args:
        labels: Group of each training row (``0..k-1``).
        vol: The volatility feature of each row.
        k: Number of groups.

    Returns:
        ``order`` such that ``order[new] = old``: new group 0 is the calmest. Empty groups sort
        last.
    """
    means = np.array(
        [float(vol[labels == g].mean()) if np.any(labels == g) else np.inf for g in range(k)]
    )
    return np.argsort(means, kind="stable").astype(np.int64)


def softmax_rows(scores: FloatArray) -> FloatArray:
    """Row-wise softmax, stable against large scores."""
    z = scores - scores.max(axis=-1, keepdims=True)
    e = np.exp(z)
    out: FloatArray = e / e.sum(axis=-1, keepdims=True)
    return out


class WindowState:
    """Online state of window detectors: the last ``length`` rows in a preallocated array.

    Args:
        length: Rows per window.
        width: Features per row.
        infer: Maps a full ``(length, width)`` window (oldest row first) to probabilities.
    """

    __slots__ = ("_buf", "_infer", "_seen")

    def __init__(self, length: int, width: int, infer: Callable[[FloatArray], FloatArray]) -> None:
        self._buf = np.zeros((length, width))
        self._seen = 0
        self._infer = infer

    def step(self, row: FloatArray) -> FloatArray | None:
        """Shift the window by one row; answer once it is full."""
        buf = self._buf
        buf[:-1] = buf[1:]
        buf[-1] = row
        self._seen += 1
        if self._seen < len(buf):
            return None
        return self._infer(buf)


@contextmanager
def single_threaded() -> Iterator[None]:
    """Run numeric libraries on one thread inside the block.

    The models are small: BLAS/OpenMP thread pools (numpy, scikit-learn, torch) only add
    synchronisation, and on a busy 2-core machine their spinning threads made an HMM fit ten
    times slower. Thread settings are restored on exit. Only libraries loaded *before* the
    block are limited, so detector modules import their dependencies at module level.
    """
    with ExitStack() as stack:
        try:
            from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]
        except ImportError:  # without scikit-learn there is no threadpoolctl; nothing to limit
            pass
        else:
            stack.enter_context(threadpool_limits(1))
        torch = sys.modules.get("torch")
        if torch is not None:
            before = torch.get_num_threads()
            torch.set_num_threads(1)
            stack.callback(torch.set_num_threads, before)
        yield
