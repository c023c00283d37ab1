"""Incremental volatility indicators: ATR, Bollinger bands, z-score and the Choppiness index."""

from __future__ import annotations

import math

from papertape.engine.indicators._params import check_multiplier, check_period

__all__ = ["ATR", "BollingerBands", "Choppiness", "ZScore"]

_NAN = math.nan
# Re-anchor when the mean square deviation from the anchor exceeds the variance this much:
# the variance then keeps at least ~12 significant digits.
_ILL_CONDITIONED = 1e3


class ATR:
    """Average true range with Wilder's smoothing (see the vectorised ``atr``).

    Args:
        period: Smoothing period, at least 1.

    Raises:
        ConfigError: If ``period`` is not an integer >= 1.
    """

    __slots__ = ("_alpha", "_bars", "_close", "_seed", "period", "value")

    def __init__(self, period: int = 14) -> None:
        self.period = check_period("atr", "period", period)
        self._alpha = 1.0 / self.period
        self._bars = 0
        self._close = _NAN
        self._seed = 0.0  # sum of the first ``period`` true ranges
        self.value = _NAN

    def update(self, high: float, low: float, close: float) -> float:
        """Add one bar; return the ATR (NaN for the first ``period`` bars)."""
        prev = self._close
        self._close = close
        tr = (high if high > prev else prev) - (low if low < prev else prev)
        bar = self._bars
        if bar > self.period:
            self.value = value = self.value + self._alpha * (tr - self.value)
            return value
        self._bars = bar + 1
        if bar == 0:
            return _NAN
        self._seed += tr
        if bar < self.period:
            return _NAN
        self.value = value = self._seed / self.period
        return value


class _MovingMoments:
    """Mean and population variance of the last ``period`` values, O(1) per update.

    Sums are kept of deviations from an anchor that is reset to the window mean (and the
    sums recomputed exactly) each time the ring wraps, and sooner when the window has moved so
    far from the anchor that ``E[y**2] - E[y]**2`` would cancel badly; so the variance never
    suffers that cancellation at high price levels or in very quiet windows. A run of
    ``period`` equal values gives exactly that value as mean and exactly 0.0 as variance.
    """

    __slots__ = (
        "_anchor",
        "_index",
        "_last",
        "_mean",
        "_ready",
        "_ring",
        "_run",
        "_squares",
        "_sum",
        "period",
    )

    def __init__(self, indicator: str, period: int) -> None:
        self.period = check_period(indicator, "period", period)
        self._ring = [0.0] * self.period
        self._index = 0
        self._anchor = 0.0
        self._sum = 0.0
        self._squares = 0.0
        self._run = 0
        self._last = _NAN
        self._ready = False
        self._mean = _NAN

    def _push(self, x: float) -> float:
        """Add ``x``; set ``_mean`` and return the variance (NaN while the window fills)."""
        ring = self._ring
        i = self._index
        anchor = self._anchor
        # Deviations first: x - anchor is exact for nearby prices, x + old at 2x the price
        # level is not (that would cost ~7 digits at 1e6 with a 1e-3 spread).
        new = x - anchor
        old = ring[i] - anchor
        step = new - old
        total = self._sum + step
        squares = self._squares + step * (new + old)
        ring[i] = x
        i += 1
        period = self.period
        if i == period:
            i = 0
            self._ready = True
            total, squares = self._reanchor()
        self._index = i
        self._sum = total
        self._squares = squares
        run = self._run + 1 if x == self._last else 1
        self._run = run
        self._last = x
        if not self._ready:
            return _NAN
        if run >= period:
            self._mean = x
            return 0.0
        centred = total / period
        mean_square = squares / period
        var = mean_square - centred * centred
        if mean_square > _ILL_CONDITIONED * var:
            # The window's spread is tiny next to its distance from the anchor: rounding
            # would dominate the variance, so re-anchor on this window and recompute.
            total, squares = self._reanchor()
            centred = total / period
            var = squares / period - centred * centred
        self._mean = self._anchor + centred
        return var if var > 0.0 else 0.0

    def _reanchor(self) -> tuple[float, float]:
        """Anchor on the window mean; store and return the exact sums of deviations."""
        ring = self._ring
        self._anchor = anchor = math.fsum(ring) / self.period
        self._sum = total = math.fsum([y - anchor for y in ring])
        self._squares = squares = math.fsum([(y - anchor) * (y - anchor) for y in ring])
        return total, squares


class BollingerBands(_MovingMoments):
    """Bollinger bands with the population standard deviation (see the vectorised one).

    ``value`` is the middle band (the SMA); ``upper``, ``lower`` and ``std`` (the population
    standard deviation of the window) are updated alongside.

    Args:
        period: Window length, at least 1.
        num_std: Band width in standard deviations, > 0.

    Raises:
        ConfigError: If ``period`` or ``num_std`` is invalid.
    """

    __slots__ = ("lower", "num_std", "std", "upper", "value")

    def __init__(self, period: int = 20, num_std: float = 2.0) -> None:
        super().__init__("bollinger", period)
        self.num_std = check_multiplier("bollinger", "num_std", num_std)
        self.value = self.upper = self.lower = self.std = _NAN

    def update(self, close: float) -> float:
        """Add one close; return the middle band (NaN for the first ``period - 1`` closes)."""
        var = self._push(close)
        if var != var:  # NaN: still warming up
            return _NAN
        mid = self._mean
        self.std = std = math.sqrt(var)
        band = self.num_std * std
        self.upper = mid + band
        self.lower = mid - band
        self.value = mid
        return mid


class ZScore(_MovingMoments):
    """``(x - mean) / std`` over the last ``period`` values; 0 for a flat window.

    Args:
        period: Window length, at least 1.

    Raises:
        ConfigError: If ``period`` is not an integer >= 1.
    """

    __slots__ = ("value",)

    def __init__(self, period: int = 20) -> None:
        super().__init__("zscore", period)
        self.value = _NAN

    def update(self, x: float) -> float:
        """Add one value; return its z-score (NaN for the first ``period - 1`` values)."""
        var = self._push(x)
        if var != var:  # NaN: still warming up
            return _NAN
        self.value = value = (x - self._mean) / math.sqrt(var) if var > 0.0 else 0.0
        return value


class _MonotonicWindow:
    """Maximum of the last ``period`` values in amortised O(1) (a monotonic ring queue).

    Stores ``(bar, value)`` pairs in decreasing value order in two preallocated lists; the
    front is the maximum. Feed negated values for a minimum.
    """

    __slots__ = ("_bars", "_head", "_size", "_values", "period")

    def __init__(self, period: int) -> None:
        self.period = period
        self._values = [0.0] * period
        self._bars = [0] * period
        self._head = 0
        self._size = 0

    def push(self, bar: int, value: float) -> float:
        """Add the value of ``bar`` (bars strictly increasing); return the window maximum."""
        period = self.period
        values = self._values
        head = self._head
        size = self._size
        if size and self._bars[head] <= bar - period:
            head = head + 1 if head + 1 < period else 0
            size -= 1
        while size:
            back = head + size - 1
            if back >= period:
                back -= period
            if values[back] > value:
                break
            size -= 1
        slot = head + size
        if slot >= period:
            slot -= period
        values[slot] = value
        self._bars[slot] = bar
        self._head = head
        self._size = size + 1
        return values[head]


class Choppiness:
    """Choppiness index over the last ``period`` bars (see the vectorised ``choppiness``).

    Args:
        period: Window length, at least 2.

    Raises:
        ConfigError: If ``period`` is not an integer >= 2.
    """

    __slots__ = (
        "_bars",
        "_close",
        "_highs",
        "_index",
        "_lows",
        "_norm",
        "_ring",
        "_sum",
        "period",
        "value",
    )

    def __init__(self, period: int = 14) -> None:
        self.period = check_period("choppiness", "period", period, minimum=2)
        self._norm = 100.0 / math.log10(self.period)
        self._highs = _MonotonicWindow(self.period)
        self._lows = _MonotonicWindow(self.period)
        self._ring = [0.0] * self.period  # true ranges
        self._index = 0
        self._sum = 0.0
        self._bars = 0
        self._close = _NAN
        self.value = _NAN

    def update(self, high: float, low: float, close: float) -> float:
        """Add one bar; return the index (NaN for the first ``period`` bars, or a flat window)."""
        bar = self._bars
        self._bars = bar + 1
        top = self._highs.push(bar, high)
        bottom = -self._lows.push(bar, -low)
        prev = self._close
        self._close = close
        if bar == 0:
            return _NAN
        tr = (high if high > prev else prev) - (low if low < prev else prev)
        ring = self._ring
        i = self._index
        self._sum += tr - ring[i]
        ring[i] = tr
        i += 1
        if i == self.period:
            i = 0
            self._sum = math.fsum(ring)
        self._index = i
        span = top - bottom
        if bar < self.period or span <= 0.0:
            self.value = _NAN
            return _NAN
        self.value = value = self._norm * math.log10(self._sum / span)
        return value
