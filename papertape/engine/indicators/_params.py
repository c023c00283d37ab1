"""Validation shared by both forms of every indicator.

Bad parameters are configuration mistakes and raise :class:`~engine.errors.ConfigError` naming
``<indicator>.<parameter>``; unusable input arrays raise :class:`~engine.errors.DataError`.
"""

from __future__ import annotations

import math
import operator

import numpy as np
from numpy.typing import ArrayLike, NDArray

from papertape.engine.errors import ConfigError, DataError

__all__ = ["FloatArray", "as_series", "check_multiplier", "check_period", "same_length"]

FloatArray = NDArray[np.float64]


def check_period(indicator: str, name: str, value: object, minimum: int = 1) -> int:
    """Return ``value`` as an ``int`` if it is an integer of at least ``minimum``.

    Args:
        indicator: Indicator name used in the error key (``"sma"``).
        name: Parameter name used in the error key (``"period"``).
        value: The value to check; ``bool`` is refused even though it is an ``int``.
        minimum: Smallest accepted value.

    Returns:
        The value as a plain ``int``.

    Raises:
        ConfigError: If the value is not an integer or is below ``minimum``.
    """
    reason = f"must be an integer >= {minimum}"
    if isinstance(value, bool):
        raise ConfigError(f"{indicator}.{name}", value, reason)
    try:
        period = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise ConfigError(f"{indicator}.{name}", value, reason) from None
    if period < minimum:
        raise ConfigError(f"{indicator}.{name}", value, reason)
    return int(period)


def check_multiplier(indicator: str, name: str, value: object) -> float:
    """Return ``value`` as a ``float`` if it is a finite, strictly positive number.

    Raises:
        ConfigError: If the value is not a finite number greater than zero.
    """
    reason = "must be a finite number > 0"
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise ConfigError(f"{indicator}.{name}", value, reason)
    number = float(value)
    if not math.isfinite(number) or number <= 0.0:
        raise ConfigError(f"{indicator}.{name}", value, reason)
    return number


def as_series(indicator: str, values: ArrayLike) -> FloatArray:
    """Convert ``values`` to a one-dimensional float64 array (no copy when it already is one).

    Raises:
        DataError: If the values are not numeric or not one-dimensional.
    """
    try:
        series = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{indicator}: input is not numeric ({exc})") from exc
    if series.ndim != 1:
        raise DataError(f"{indicator}: input must be one-dimensional, got shape {series.shape}")
    return series


def same_length(indicator: str, *columns: ArrayLike) -> tuple[FloatArray, ...]:
    """Convert several columns with :func:`as_series` and check that their lengths agree.

    Raises:
        DataError: If a column is unusable or the lengths differ.
    """
    series = tuple(as_series(indicator, column) for column in columns)
    lengths = {s.size for s in series}
    if len(lengths) > 1:
        sizes = ", ".join(str(s.size) for s in series)
        raise DataError(f"{indicator}: input columns differ in length ({sizes})")
    return series
