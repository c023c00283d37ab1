"""Incremental trend indicators: SMA, EMA, MACD and the least-squares trend slope."""

from __future__ import annotations

import math

from papertape.engine.errors import ConfigError, DataError
from papertape.engine.indicators._params import check_period

__all__ = ["EMA", "MACD", "SMA", "TrendSlope"]

_NAN = math.nan


class SMA:
    """Simple moving average of the last ``period`` values.

    Args:
        period: Window length, at least 1.

    Raises:
        ConfigError: If ``period`` is not an integer >= 1.
    """

    __slots__ = ("_index", "_ready", "_ring", "_sum", "period", "value")

    def __init__(self, period: int) -> None:
        self.period = check_period("sma", "period", period)
        self._ring = [0.0] * self.period
        self._index = 0
        self._sum = 0.0
        self._ready = False
        self.value = _NAN

    def update(self, x: float) -> float:
        """Add one value; return the mean of the last ``period`` values (NaN until full)."""
        ring = self._ring
        i = self._index
        self._sum += x - ring[i]
        ring[i] = x
        i += 1
        if i == self.period:
            i = 0
            self._sum = math.fsum(ring)
            self._ready = True
        self._index = i
        if self._ready:
            self.value = value = self._sum / self.period
            return value
        return _NAN


class EMA:
    """Exponential moving average, ``alpha = 2 / (period + 1)``, seeded with the first SMA.

    Args:
        period: Span, at least 1.

    Raises:
        ConfigError: If ``period`` is not an integer >= 1.
    """

    __slots__ = ("_alpha", "_count", "_seed", "period", "value")

    def __init__(self, period: int) -> None:
        self.period = check_period("ema", "period", period)
        self._alpha = 2.0 / (self.period + 1)
        self._count = 0
        self._seed = 0.0
        self.value = _NAN

    def update(self, x: float) -> float:
        """Add one value; return the EMA (NaN for the first ``period - 1`` values)."""
        if self._count >= self.period:
            self.value = value = self.value + self._alpha * (x - self.value)
            return value
        self._count += 1
        self._seed += x
        if self._count == self.period:
            self.value = self._seed / self.period
        return self.value


class MACD:
    """MACD line, signal and histogram, as :func:`engine.indicators.vectorised.trend.macd`.

    ``value`` is the MACD line; ``signal`` and ``hist`` are updated alongside.

    Args:
        fast: Span of the fast EMA, at least 1.
        slow: Span of the slow EMA, greater than ``fast``.
        signal: Span of the signal EMA, at least 1.

    Raises:
        ConfigError: If a span is not a positive integer or ``slow <= fast``.
    """

    __slots__ = ("_fast", "_signal", "_slow", "hist", "signal", "value")

    def __init__(self, fast: int = 12, slow: int = 26, signal: int = 9) -> None:
        self._fast = EMA(check_period("macd", "fast", fast))
        self._slow = EMA(check_period("macd", "slow", slow))
        self._signal = EMA(check_period("macd", "signal", signal))
        if slow <= fast:
            raise ConfigError("macd.slow", slow, f"must be greater than macd.fast = {fast}")
        self.value = _NAN
        self.signal = _NAN
        self.hist = _NAN

    def update(self, close: float) -> float:
        """Add one close; return the MACD line (NaN for the first ``slow - 1`` closes)."""
        line = self._fast.update(close) - self._slow.update(close)
        self.value = line
        if line == line:  # not NaN: the signal EMA only sees defined line values
            self.signal = signal = self._signal.update(line)
            self.hist = line - signal
        return line


class TrendSlope:
    """Least-squares slope of the last ``period`` closes against the bar number.

    Args:
        period: Number of closes in the fit, at least 2.
        log: Fit ``log(close)``: the slope is then a log-return per bar.

    Raises:
        ConfigError: If ``period`` is not an integer >= 2.
    """

    __slots__ = (
        "_anchor",
        "_centre",
        "_index",
        "_ready",
        "_ring",
        "_spread",
        "_sum",
        "_weighted",
        "log",
        "period",
        "value",
    )

    def __init__(self, period: int, log: bool = False) -> None:
        self.period = p = check_period("trend_slope", "period", period, minimum=2)
        self.log = log
        self._ring = [0.0] * p
        self._index = 0
        # Sums of (y - anchor) and of k * (y - anchor), k = 0 for the oldest value.
        self._anchor = 0.0
        self._sum = 0.0
        self._weighted = 0.0
        self._centre = (p - 1) / 2.0
        self._spread = p * (p * p - 1) / 12.0
        self._ready = False
        self.value = _NAN

    def update(self, close: float) -> float:
        """Add one close; return the slope per bar (NaN for the first ``period - 1`` closes).

        Raises:
            DataError: With ``log=True``, if the close is not strictly positive.
        """
        if self.log:
            try:
                close = math.log(close)
            except ValueError:
                raise DataError(f"trend_slope: log of non-positive close {close!r}") from None
        ring = self._ring
        i = self._index
        anchor = self._anchor
        self._sum = total = self._sum + (close - anchor) - (ring[i] - anchor)
        self._weighted += self.period * (close - anchor) - total
        ring[i] = close
        i += 1
        if i == self.period:
            # The ring is in time order now: re-anchor on its mean and recompute exactly.
            i = 0
            self._anchor = anchor = math.fsum(ring) / self.period
            self._sum = math.fsum([y - anchor for y in ring])
            self._weighted = math.fsum([k * (y - anchor) for k, y in enumerate(ring)])
            self._ready = True
        self._index = i
        if self._ready:
            self.value = value = (self._weighted - self._centre * self._sum) / self._spread
            return value
        return _NAN
