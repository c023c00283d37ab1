"""Causal features for the direction model: row ``t`` uses bars ``<= t`` only."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["FEATURES", "WARMUP", "feature_matrix", "labels"]

FEATURES: tuple[str, ...] = (
    "log_return",  # log(close_t / close_{t-1})
    "trend_20",  # close / SMA20 - 1
    "vol_10",  # std of the last 10 log returns
    "range",  # (high - low) / close
    "volume_z",  # log volume, z-scored over the last 20 bars
)
WARMUP = 21  # rows before this are incomplete (filled with 0)


def _trailing_mean(x: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    c = np.cumsum(np.concatenate([[0.0], x]))
    out = np.full(len(x), np.nan)
    out[n - 1 :] = (c[n:] - c[:-n]) / n
    return out


def feature_matrix(
    high: NDArray[np.float64],
    low: NDArray[np.float64],
    close: NDArray[np.float64],
    volume: NDArray[np.float64],
) -> NDArray[np.float32]:
    """Features per bar (rows) × :data:`FEATURES` (columns), each from trailing bars only."""
    n = len(close)
    lr = np.zeros(n)
    lr[1:] = np.diff(np.log(close))
    trend = close / _trailing_mean(close, 20) - 1.0
    mean10 = _trailing_mean(lr, 10)
    vol = np.sqrt(np.maximum(_trailing_mean(lr * lr, 10) - mean10 * mean10, 0.0))
    rng = (high - low) / close
    lv = np.log(np.maximum(volume, 1.0))
    m20 = _trailing_mean(lv, 20)
    s20 = np.sqrt(np.maximum(_trailing_mean(lv * lv, 20) - m20 * m20, 0.0))
    vz = np.where(s20 > 0, (lv - m20) / np.where(s20 > 0, s20, 1.0), 0.0)
    out = np.column_stack([lr * 100.0, trend * 10.0, vol * 100.0, rng * 100.0, vz])
    out[:WARMUP] = 0.0
    clean: NDArray[np.float32] = np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0).astype(
        np.float32
    )
    return clean


def labels(close: NDArray[np.float64], horizon: int) -> NDArray[np.float64]:
    """1 where the close ``horizon`` bars later is higher, 0 otherwise, NaN at the end."""
    y = np.full(len(close), np.nan)
    y[:-horizon] = (close[horizon:] > close[:-horizon]).astype(float)
    return y
