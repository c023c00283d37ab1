"""What the VAE and the Transformer share: window detectors, seeding, safe weight files."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from papertape.engine.errors import ModelError
from papertape.ml.regime.base import FloatArray, RegimeDetector, WindowState

if TYPE_CHECKING:
    from pathlib import Path

    from numpy.typing import NDArray

__all__ = [
    "WindowDetector",
    "load_state",
    "one_thread",
    "save_state",
    "seeded",
    "sliding_windows",
]


@contextmanager
def seeded(seed: int) -> Iterator[torch.Generator]:
    """Seed torch inside a forked RNG scope (the caller's global RNG state is left untouched).

    Yields:
        A generator seeded with ``seed`` for shuffling and sampling.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        yield gen


@contextmanager
def one_thread() -> Iterator[None]:
    """Run torch on one thread inside the block (restored after; switching costs < 1 µs).

    A forward pass of these small networks is a few dozen tiny kernels: on two busy cores,
    torch's second intra-op thread made one window's inference 20 times slower.
    """
    before = torch.get_num_threads()
    if before == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def sliding_windows(rows: NDArray[np.float64], length: int) -> NDArray[np.float64]:
    """Windows ending at every row: shape ``(len(rows) - length + 1, length, width)``.

    Window ``i`` holds ``rows[i : i + length]`` and ends at row ``i + length - 1``.
    """
    x = np.ascontiguousarray(rows, dtype=np.float64)
    if len(x) < length:
        return np.zeros((0, length, x.shape[1]))
    view = np.lib.stride_tricks.sliding_window_view(x, (length, x.shape[1]))
    return np.ascontiguousarray(view[:, 0])


def save_state(module: torch.nn.Module, path: Path) -> None:
    """Write a module's ``state_dict``."""
    torch.save(module.state_dict(), path)


def load_state(module: torch.nn.Module, path: Path) -> None:
    """Read a ``state_dict`` with ``weights_only`` (no arbitrary unpickling) into ``module``.

    Raises:
        ModelError: If the file is missing, unreadable or does not fit the module.
    """
    try:
        state: dict[str, Any] = torch.load(path, map_location="cpu", weights_only=True)
        module.load_state_dict(state)
    except (OSError, RuntimeError, KeyError, ValueError) as exc:
        raise ModelError(f"cannot load weights {path}: {exc}") from exc
    module.eval()


class WindowDetector(RegimeDetector):
    """A detector that labels the window of the last ``window`` rows (a hyperparameter).

    Row ``t``'s answer comes from rows ``t - window + 1 .. t``; the first ``window - 1`` rows
    have none. Subclasses say how windows become probabilities, in a batch
    (:meth:`_predict_windows`) and one at a time online (:meth:`_step_window`).
    """

    n_features: int

    @property
    def warmup_rows(self) -> int:
        """One full window."""
        return int(self.hyperparameters["window"])

    @abstractmethod
    def _predict_windows(self, windows: FloatArray) -> FloatArray:
        """Probabilities of each ``(window, width)`` window of a stack (oldest row first)."""

    @abstractmethod
    def _step_window(self, window: FloatArray) -> FloatArray:
        """Probabilities of one full window (the online path)."""

    def filter(self, rows: FloatArray) -> FloatArray:
        """Probabilities of the window ending at each row (NaN for the first ``window - 1``)."""
        self.require_fitted()
        w = self.hyperparameters["window"]
        rows = np.asarray(rows, dtype=np.float64)
        out = np.full((len(rows), self.n_regimes), np.nan)
        windows = sliding_windows(rows, w)
        if len(windows):
            out[w - 1 :] = self._predict_windows(windows)
        return out

    def online(self) -> WindowState:
        """A per-symbol state holding the last ``window`` rows."""
        self.require_fitted()
        return WindowState(self.hyperparameters["window"], self.n_features, self._step_window)
