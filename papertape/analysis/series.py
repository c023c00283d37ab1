"""Checks that turn what a caller hands the statistics into clean float arrays.

Every public function of :mod:`papertape.analysis` validates its inputs here, so a bad series
fails once, early, with a :class:`~papertape.engine.errors.DataError` that says what is wrong,
and a bad tuning value with a :class:`~papertape.engine.errors.ConfigError` naming it.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from papertape.engine.errors import ConfigError, DataError, PapertapeError

__all__ = [
    "MIN_OBSERVATIONS",
    "as_float_list",
    "check_alpha",
    "check_positive",
    "check_reps",
    "paired_columns",
    "require_arch",
    "return_matrix",
    "return_series",
]

#: Fewer paired periods than this cannot support a block bootstrap or a HAC variance.
MIN_OBSERVATIONS = 10


def return_series(values: ArrayLike, name: str) -> NDArray[np.float64]:
    """One per-period return series as a finite 1-D float array.

    Args:
        values: Simple returns, one per period (0.01 is +1 %).
        name: What the series is, for the error message.

    Returns:
        A contiguous float64 copy.

    Raises:
        DataError: If the series is not 1-D, is too short or holds NaN/inf.
    """
    array = np.array(values, dtype=np.float64)
    if array.ndim != 1:
        raise DataError(f"{name} must be one return per period (1-D), got shape {array.shape}")
    _check_finite_and_long(array, name)
    return array


def return_matrix(values: ArrayLike, name: str) -> NDArray[np.float64]:
    """A (periods × columns) return matrix as a finite 2-D float array.

    Args:
        values: Simple returns; rows are periods, columns are traders or configurations.
        name: What the matrix is, for the error message.

    Returns:
        A contiguous float64 copy.

    Raises:
        DataError: If the matrix is not 2-D, has no column, is too short or holds NaN/inf.
    """
    array = np.array(values, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] == 0:
        raise DataError(f"{name} must be periods × columns (2-D), got shape {array.shape}")
    _check_finite_and_long(array, name)
    return array


def paired_columns(*series: NDArray[np.float64]) -> NDArray[np.float64]:
    """Stack equally long series as the columns of one matrix.

    Raises:
        DataError: If the series do not cover the same number of periods.
    """
    lengths = {len(s) for s in series}
    if len(lengths) != 1:
        raise DataError(
            f"paired returns must cover the same periods, got lengths {sorted(lengths)}"
        )
    return np.column_stack(series)


def check_alpha(alpha: float) -> float:
    """A significance level strictly between 0 and 1."""
    if not 0.0 < alpha < 1.0:
        raise ConfigError("alpha", alpha, "a significance level lies strictly between 0 and 1")
    return float(alpha)


def check_reps(reps: int, alpha: float) -> int:
    """Enough bootstrap replications for a test at level ``alpha``.

    With ``reps`` replications the smallest attainable p-value is ``1 / (reps + 1)``, so fewer
    than ``1 / alpha - 1`` replications could never reject.
    """
    needed = math.ceil(1.0 / alpha - 1.0 - 1e-9)
    if isinstance(reps, bool) or not isinstance(reps, int | np.integer) or reps < needed:
        raise ConfigError(
            "reps", reps, f"at least {needed} replications are needed at alpha={alpha}"
        )
    return int(reps)


def check_positive(value: float, key: str) -> float:
    """A strictly positive, finite number (periods per year, a block length)."""
    if not (math.isfinite(value) and value > 0):
        raise ConfigError(key, value, "must be a positive finite number")
    return float(value)


def as_float_list(values: Sequence[float] | NDArray[np.float64], name: str) -> list[float]:
    """A list of finite floats, for small inputs such as p-values."""
    array = np.asarray(values, dtype=np.float64).ravel()
    if not np.all(np.isfinite(array)):
        raise DataError(f"{name} holds NaN or infinite values")
    return [float(v) for v in array]


def require_arch() -> None:
    """Fail with an install hint when the ``analysis`` extra (arch) is missing.

    Raises:
        PapertapeError: If ``arch`` cannot be imported.
    """
    try:
        importlib.import_module("arch.bootstrap")
    except ImportError as exc:
        raise PapertapeError(
            "the bootstrap statistics need arch: pip install 'papertape[analysis]'"
        ) from exc


def _check_finite_and_long(array: NDArray[np.float64], name: str) -> None:
    if array.shape[0] < MIN_OBSERVATIONS:
        raise DataError(
            f"{name} has {array.shape[0]} periods; at least {MIN_OBSERVATIONS} are needed"
        )
    if not np.all(np.isfinite(array)):
        raise DataError(f"{name} holds NaN or infinite values")
