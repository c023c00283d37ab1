"""Trailing-window sums, moments, slopes and extremes in O(n) with bounded rounding error.

A single ``cumsum`` over the whole history makes every window sum the difference of two huge
prefix sums, so its error grows with the length of the history (and with the price level,
catastrophically for variances). Here the history is cut into blocks of ``B = max(8, 4 *
period)`` bars; each block is extended backwards by ``period - 1`` bars so that every window
ending in the block lies inside its row, and each row is shifted by an anchor taken from its
own values. Window sums are then differences of prefix sums within one short row of anchored
values, so the error is bounded by the local price range, not by the history's length or the
price level.

Variance and the centred least-squares slope are invariant to shifting a window by a constant,
which is why subtracting a per-row anchor is allowed.

Windows that end before ``period - 1`` are NaN.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from papertape.engine.indicators._params import FloatArray

__all__ = [
    "flat_windows",
    "rolling_max",
    "rolling_mean",
    "rolling_mean_var",
    "rolling_min",
    "rolling_slope",
    "rolling_sum",
]

_MIN_BLOCK = 8
_ROUNDING = 4.0 * np.finfo(np.float64).eps  # per-operation rounding, with a safety factor
_TOLERANCE = 1e-12  # relative error above which a window's variance is recomputed
_TWO_PASS_ELEMENTS = 1 << 20  # memory bound of one batch of recomputed windows


class _Rows:
    """The anchored, overlapping rows of one input series.

    Attributes:
        values: ``(rows, block + period - 1)`` array, row ``r`` holding
            ``x[r * block - period + 1 : (r + 1) * block] - anchor[r]``.
        anchors: ``(rows, 1)`` anchor of each row (one of the row's own values).
    """

    __slots__ = ("anchors", "block", "n", "period", "values")

    def __init__(self, x: FloatArray, period: int) -> None:
        self.n = x.size
        self.period = period
        self.block = max(_MIN_BLOCK, 4 * period)
        rows = -(-self.n // self.block)
        width = self.block + period - 1
        # Edge padding repeats the first/last value: it only reaches warm-up windows and
        # keeps the anchors representative of the data.
        padded = np.empty(rows * self.block + period - 1)
        padded[: period - 1] = x[0]
        padded[period - 1 : period - 1 + self.n] = x
        padded[period - 1 + self.n :] = x[-1]
        raw = sliding_window_view(padded, width)[:: self.block]
        # A value of the row itself as anchor: x - anchor is exact for nearby prices (Sterbenz).
        self.anchors = raw[:, width // 2 : width // 2 + 1].copy()
        self.values = raw - self.anchors

    def window_sums(self, values: FloatArray) -> FloatArray:
        """Sum of every ``period``-long window of ``values`` (same shape as ``self.values``).

        Returns:
            ``(rows, block)`` array; entry ``[r, k]`` is the window ending at ``x[r*block + k]``.
        """
        prefix = np.zeros((values.shape[0], values.shape[1] + 1))
        np.cumsum(values, axis=1, out=prefix[:, 1:])
        return prefix[:, self.period :] - prefix[:, : -self.period]

    def unblock(self, blocks: FloatArray) -> FloatArray:
        """Flatten per-row results back to one series, NaN before the first full window."""
        out = blocks.reshape(-1)[: self.n].copy()
        out[: self.period - 1] = np.nan
        return out


def _empty_or_short(x: FloatArray, period: int) -> FloatArray | None:
    if x.size < period:
        return np.full(x.size, np.nan)
    return None


def rolling_sum(x: FloatArray, period: int) -> FloatArray:
    """Sum of the trailing ``period`` values at every position."""
    short = _empty_or_short(x, period)
    if short is not None:
        return short
    rows = _Rows(x, period)
    return rows.unblock(rows.window_sums(rows.values) + period * rows.anchors)


def rolling_mean(x: FloatArray, period: int) -> FloatArray:
    """Mean of the trailing ``period`` values at every position."""
    short = _empty_or_short(x, period)
    if short is not None:
        return short
    rows = _Rows(x, period)
    return rows.unblock(rows.anchors + rows.window_sums(rows.values) / period)


def rolling_mean_var(x: FloatArray, period: int) -> tuple[FloatArray, FloatArray]:
    """Mean and population variance (``ddof=0``) of the trailing ``period`` values.

    The one-pass formula ``E[y**2] - E[y]**2`` on anchored values loses precision when a
    window's variance is tiny next to the squared deviations in its row (two nearly equal
    closes far from the anchor). Its rounding error is bounded by ``eps * row_width / period *
    mean(y**2 over the row)``; windows where that bound exceeds 1e-12 of the variance are
    recomputed with the two-pass formula on the window itself. Typical price data has few
    such windows, so the whole stays O(n); the result is as exact as ``np.var``.

    A window whose values are all equal gets exactly that value as mean and exactly 0.0 as
    variance, so that flat markets never show rounding noise as volatility.
    """
    short = _empty_or_short(x, period)
    if short is not None:
        return short, short.copy()
    rows = _Rows(x, period)
    squared = rows.values * rows.values
    centred = rows.window_sums(rows.values) / period
    squares = rows.window_sums(squared) / period
    mean = rows.unblock(rows.anchors + centred)
    var_blocks = np.maximum(squares - centred * centred, 0.0)
    width = rows.values.shape[1]
    bound = (_ROUNDING * width / period) * squared.mean(axis=1, keepdims=True)
    suspect = rows.unblock(np.where(var_blocks * _TOLERANCE < bound, 1.0, 0.0)) == 1.0
    var = rows.unblock(var_blocks)
    _two_pass(x, period, np.flatnonzero(suspect), mean, var)
    flat = flat_windows(x, period)
    mean[flat] = x[flat]
    var[flat] = 0.0
    return mean, var


def _two_pass(
    x: FloatArray, period: int, ends: NDArray[np.intp], mean: FloatArray, var: FloatArray
) -> None:
    """Overwrite ``mean``/``var`` at the windows ending at ``ends`` with two-pass values."""
    windows = sliding_window_view(x, period)
    chunk = max(1, _TWO_PASS_ELEMENTS // period)
    for start in range(0, ends.size, chunk):
        at = ends[start : start + chunk]
        values = windows[at - (period - 1)]
        centre = values.mean(axis=1)
        mean[at] = centre
        deviations = values - centre[:, None]
        var[at] = np.einsum("ij,ij->i", deviations, deviations) / period


def flat_windows(x: FloatArray, period: int) -> NDArray[np.bool_]:
    """Whether the trailing ``period`` values are all equal (False during the warm-up).

    Counted exactly: a window is flat when none of its ``period - 1`` steps changes the value.
    """
    flat = np.zeros(x.size, dtype=np.bool_)
    if x.size < period:
        return flat
    changes = np.zeros(x.size, dtype=np.int64)
    np.cumsum(x[1:] != x[:-1], out=changes[1:])
    # changes[i] counts steps up to i; the window ending at i holds steps i-period+2 .. i.
    flat[period - 1 :] = changes[period - 1 :] == changes[: x.size - period + 1]
    return flat


def rolling_slope(x: FloatArray, period: int) -> FloatArray:
    """Least-squares slope (per step) of the trailing ``period`` values against 0..period-1."""
    short = _empty_or_short(x, period)
    if short is not None:
        return short
    rows = _Rows(x, period)
    local = np.arange(rows.values.shape[1], dtype=np.float64)
    sums = rows.window_sums(rows.values)
    weighted = rows.window_sums(rows.values * local)
    # sum((k - c) * y[start + k]) = sum(t * y) - (start + c) * sum(y), t the row position.
    centre = (period - 1) / 2.0
    starts = np.arange(rows.block, dtype=np.float64)
    moment = weighted - (starts + centre) * sums
    spread = period * (period * period - 1) / 12.0
    return rows.unblock(moment / spread)


def rolling_max(x: FloatArray, period: int) -> FloatArray:
    """Maximum of the trailing ``period`` values (van Herk/Gil-Werman, O(n), exact)."""
    short = _empty_or_short(x, period)
    if short is not None:
        return short
    n = x.size
    rows = -(-n // period)
    padded = np.full(rows * period, -np.inf)
    padded[:n] = x
    blocks = padded.reshape(rows, period)
    prefix = np.maximum.accumulate(blocks, axis=1).reshape(-1)
    suffix = np.maximum.accumulate(blocks[:, ::-1], axis=1)[:, ::-1].reshape(-1)
    out = np.full(n, np.nan)
    # Window [i - period + 1, i] = tail of one block + head of the next.
    out[period - 1 :] = np.maximum(suffix[: n - period + 1], prefix[period - 1 : n])
    return out


def rolling_min(x: FloatArray, period: int) -> FloatArray:
    """Minimum of the trailing ``period`` values (O(n), exact)."""
    return -rolling_max(-x, period)
