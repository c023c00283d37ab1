"""Regime features from OHLC bars, computed one bar at a time so training and trading agree.

Every feature at bar ``t`` uses only bars ``<= t``. There is a single implementation,
:class:`OnlineFeatures`, updated once per bar in O(window) plain-Python work; the batch
function :func:`feature_matrix` simply runs it over a whole series. So the matrix a model is
trained on and the vector the annotator computes inside the tick loop are the same numbers,
and no feature can peek at a later bar by construction.

Features (names are the keys of a :class:`FeatureSpec`):

========== =================================================================================
log_return ``ln(c_t / c_{t-1})``
volatility sample standard deviation of the last ``vol_window`` log returns, annualised
momentum   ``ln(c_t / c_{t-momentum_window})``
atr_pct    Wilder average true range over ``atr_window`` bars divided by the close (optional)
trend      least-squares slope of ``ln c`` over the last ``trend_window`` bars, annualised
           (optional)
drawdown   ``c_t / max(c over the last drawdown_window bars) - 1`` (optional; a partial window
           is used while history is shorter)
========== =================================================================================

:class:`FeatureScaler` standardises columns with a mean and standard deviation fitted on the
training rows only; the fitted numbers travel with the model artifact.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from papertape.engine.errors import ConfigError, DataError
from papertape.engine.indicators import ATR

__all__ = [
    "ALL_FEATURES",
    "DEFAULT_FEATURES",
    "FeatureScaler",
    "FeatureSpec",
    "OnlineFeatures",
    "feature_matrix",
    "first_complete_row",
]

FloatArray = NDArray[np.float64]

ALL_FEATURES: tuple[str, ...] = (
    "log_return",
    "volatility",
    "momentum",
    "atr_pct",
    "trend",
    "drawdown",
)
DEFAULT_FEATURES: tuple[str, ...] = ("log_return", "volatility", "momentum")


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """Which features, over which windows.

    Attributes:
        names: Feature names in column order; must include ``volatility`` (regimes are ordered
            by it).
        vol_window: Log returns in the volatility estimate (21 ≈ one trading month).
        momentum_window: Bars of the momentum return.
        atr_window: Wilder smoothing period of ``atr_pct``.
        trend_window: Bars in the ``trend`` regression.
        drawdown_window: Bars over which the running peak of ``drawdown`` is taken.
        periods_per_year: Bars per year used to annualise ``volatility`` and ``trend``.
    """

    names: tuple[str, ...] = DEFAULT_FEATURES
    vol_window: int = 21
    momentum_window: int = 5
    atr_window: int = 14
    trend_window: int = 21
    drawdown_window: int = 252
    periods_per_year: float = 252.0

    def __post_init__(self) -> None:
        unknown = [n for n in self.names if n not in ALL_FEATURES]
        if unknown:
            raise ConfigError("features", unknown, f"unknown feature; choose from {ALL_FEATURES}")
        if len(set(self.names)) != len(self.names):
            raise ConfigError("features", list(self.names), "a feature is listed twice")
        if "volatility" not in self.names:
            raise ConfigError("features", list(self.names), "must include 'volatility'")
        for key in ("vol_window", "trend_window"):
            if getattr(self, key) < 2:
                raise ConfigError(f"features.{key}", getattr(self, key), "must be >= 2")
        for key in ("momentum_window", "atr_window", "drawdown_window"):
            if getattr(self, key) < 1:
                raise ConfigError(f"features.{key}", getattr(self, key), "must be >= 1")
        if not (math.isfinite(self.periods_per_year) and self.periods_per_year > 0):
            raise ConfigError("features.periods_per_year", self.periods_per_year, "must be > 0")

    def column(self, name: str) -> int:
        """Index of feature ``name`` (``-1`` when not selected)."""
        return self.names.index(name) if name in self.names else -1

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (stored in model metadata)."""
        out = asdict(self)
        out["names"] = list(self.names)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureSpec:
        """Inverse of :meth:`to_dict`."""
        try:
            return cls(**{**data, "names": tuple(data["names"])})
        except (KeyError, TypeError) as exc:
            raise ConfigError("features", dict(data), f"not a feature spec: {exc}") from None


class OnlineFeatures:
    """Feature state of one symbol; feed bars in time order with :meth:`update`.

    Args:
        spec: The feature selection and windows.
    """

    __slots__ = (
        "_atr",
        "_closes",
        "_log_closes",
        "_peak_len",
        "_prev",
        "_rets",
        "_trend_w",
        "spec",
        "width",
    )

    def __init__(self, spec: FeatureSpec) -> None:
        self.spec = spec
        self.width = len(spec.names)
        keep = max(spec.momentum_window + 1, spec.drawdown_window, 1)
        self._closes: deque[float] = deque(maxlen=keep)
        self._log_closes: deque[float] = deque(maxlen=spec.trend_window)
        self._rets: deque[float] = deque(maxlen=spec.vol_window)
        self._atr = ATR(spec.atr_window)
        self._prev = math.nan
        self._peak_len = spec.drawdown_window
        n = spec.trend_window
        mean_x = (n - 1) / 2.0
        sxx = sum((i - mean_x) ** 2 for i in range(n))
        # slope = sum(w_i * y_i) with w_i = (i - mean_x) / Sxx (the weights sum to zero)
        self._trend_w = tuple((i - mean_x) / sxx for i in range(n))

    def update(self, high: float, low: float, close: float) -> tuple[float, ...] | None:
        """Add one bar; return its feature vector, or None while a window is still filling.

        Raises:
            DataError: If ``close`` is not a positive finite number.
        """
        if not (close > 0.0 and math.isfinite(close)):
            raise DataError(f"regime features need positive closes, got {close!r}")
        spec = self.spec
        prev = self._prev
        self._prev = close
        ret = math.log(close / prev) if prev == prev else math.nan
        if ret == ret:
            self._rets.append(ret)
        self._closes.append(close)
        self._log_closes.append(math.log(close))
        atr = self._atr.update(high, low, close)
        out: list[float] = []
        for name in spec.names:
            if name == "log_return":
                value = ret
            elif name == "volatility":
                value = self._volatility()
            elif name == "momentum":
                value = self._momentum()
            elif name == "atr_pct":
                value = atr / close
            elif name == "trend":
                value = self._trend()
            else:
                value = self._drawdown(close)
            if value != value:
                return None
            out.append(value)
        return tuple(out)

    def _volatility(self) -> float:
        rets = self._rets
        n = len(rets)
        if n < self.spec.vol_window:
            return math.nan
        mean = math.fsum(rets) / n
        var = math.fsum((r - mean) ** 2 for r in rets) / (n - 1)
        return math.sqrt(var * self.spec.periods_per_year)

    def _momentum(self) -> float:
        m = self.spec.momentum_window
        closes = self._closes
        if len(closes) <= m:
            return math.nan
        return math.log(closes[-1] / closes[-1 - m])

    def _trend(self) -> float:
        ys = self._log_closes
        if len(ys) < self.spec.trend_window:
            return math.nan
        slope = math.fsum(w * y for w, y in zip(self._trend_w, ys, strict=True))
        return slope * self.spec.periods_per_year

    def _drawdown(self, close: float) -> float:
        closes = self._closes
        if len(closes) > self._peak_len:
            window = list(closes)[-self._peak_len :]
            return close / max(window) - 1.0
        return close / max(closes) - 1.0


def feature_matrix(
    high: Sequence[float] | FloatArray,
    low: Sequence[float] | FloatArray,
    close: Sequence[float] | FloatArray,
    spec: FeatureSpec,
) -> FloatArray:
    """Features of every bar (row ``t`` uses bars ``<= t``); warm-up rows are NaN.

    Args:
        high: Bar highs.
        low: Bar lows.
        close: Bar closes (positive).
        spec: The feature selection.

    Returns:
        A ``(len(close), len(spec.names))`` float64 array.
    """
    hs = np.asarray(high, dtype=np.float64).tolist()
    ls = np.asarray(low, dtype=np.float64).tolist()
    cs = np.asarray(close, dtype=np.float64).tolist()
    if not len(hs) == len(ls) == len(cs):
        raise DataError(f"high/low/close lengths differ: {len(hs)}, {len(ls)}, {len(cs)}")
    out = np.full((len(cs), len(spec.names)), np.nan)
    state = OnlineFeatures(spec)
    for t, (h, lo, c) in enumerate(zip(hs, ls, cs, strict=True)):
        row = state.update(h, lo, c)
        if row is not None:
            out[t] = row
    return out


def first_complete_row(features: FloatArray) -> int:
    """Index of the first row without NaN (``len(features)`` when there is none).

    Raises:
        DataError: If a NaN row follows a complete one (the warm-up must be a prefix).
    """
    ok = np.asarray(np.isfinite(features).all(axis=1), dtype=bool)
    if not ok.any():
        return len(features)
    first = int(np.argmax(ok))
    if not ok[first:].all():
        bad = first + int(np.argmin(ok[first:]))
        raise DataError(f"feature row {bad} is incomplete after the warm-up ended at {first}")
    return first


@dataclass(frozen=True, slots=True)
class FeatureScaler:
    """Column standardisation fitted on training rows only.

    Attributes:
        mean: Column means of the training rows.
        std: Column standard deviations of the training rows (1.0 where a column is constant).
    """

    mean: tuple[float, ...]
    std: tuple[float, ...]
    _mean: FloatArray = field(init=False, repr=False, compare=False)
    _std: FloatArray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.mean) != len(self.std):
            raise ConfigError("scaler", (self.mean, self.std), "mean and std lengths differ")
        object.__setattr__(self, "_mean", np.asarray(self.mean, dtype=np.float64))
        object.__setattr__(self, "_std", np.asarray(self.std, dtype=np.float64))

    @classmethod
    def fit(cls, rows: FloatArray) -> FeatureScaler:
        """Fit on complete training rows.

        Raises:
            DataError: If fewer than two complete rows are given.
        """
        x = np.asarray(rows, dtype=np.float64)
        x = x[np.isfinite(x).all(axis=1)]
        if len(x) < 2:
            raise DataError(f"cannot fit a feature scaler on {len(x)} complete rows")
        std = x.std(axis=0, ddof=1)
        std = np.where(std > 1e-12, std, 1.0)
        return cls(tuple(float(v) for v in x.mean(axis=0)), tuple(float(v) for v in std))

    def transform(self, rows: FloatArray) -> FloatArray:
        """Standardise rows (NaN stays NaN)."""
        return (np.asarray(rows, dtype=np.float64) - self._mean) / self._std

    def transform_one(self, row: Sequence[float]) -> FloatArray:
        """Standardise one feature vector."""
        return (np.asarray(row, dtype=np.float64) - self._mean) / self._std

    def to_dict(self) -> dict[str, list[float]]:
        """Plain JSON-ready form."""
        return {"mean": list(self.mean), "std": list(self.std)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Sequence[float]]) -> FeatureScaler:
        """Inverse of :meth:`to_dict`."""
        return cls(tuple(float(v) for v in data["mean"]), tuple(float(v) for v in data["std"]))
