"""Incremental momentum indicators: RSI and ADX with +DI/-DI (Wilder)."""

from __future__ import annotations

import math

from papertape.engine.indicators._params import check_period

__all__ = ["ADX", "RSI"]

_NAN = math.nan


class RSI:
    """Relative strength index with Wilder's smoothing (see the vectorised ``rsi``).

    Args:
        period: Smoothing period, at least 1.

    Raises:
        ConfigError: If ``period`` is not an integer >= 1.
    """

    __slots__ = ("_alpha", "_count", "_gain", "_loss", "_prev", "period", "value")

    def __init__(self, period: int = 14) -> None:
        self.period = check_period("rsi", "period", period)
        self._alpha = 1.0 / self.period
        self._count = 0  # closes seen
        self._prev = _NAN
        self._gain = 0.0
        self._loss = 0.0
        self.value = _NAN

    def update(self, close: float) -> float:
        """Add one close; return the RSI in [0, 100] (NaN for the first ``period`` closes)."""
        change = close - self._prev
        self._prev = close
        gain = change if change > 0.0 else 0.0
        loss = -change if change < 0.0 else 0.0
        if self._count > self.period:
            alpha = self._alpha
            self._gain = avg_gain = self._gain + alpha * (gain - self._gain)
            self._loss = avg_loss = self._loss + alpha * (loss - self._loss)
        else:
            self._count += 1
            if self._count == 1:
                return _NAN
            self._gain += gain
            self._loss += loss
            if self._count <= self.period:
                return _NAN
            self._gain = avg_gain = self._gain / self.period
            self._loss = avg_loss = self._loss / self.period
        total = avg_gain + avg_loss
        self.value = value = 100.0 * avg_gain / total if total != 0.0 else 50.0
        return value


class ADX:
    """Average directional index; ``value`` is ADX, ``plus_di``/``minus_di`` the DI lines.

    Same definition and warm-up as the vectorised ``adx``: the DIs from bar ``period``,
    ADX from bar ``2 * period - 1`` (bars counted from 0).

    Args:
        period: Smoothing period, at least 1.

    Raises:
        ConfigError: If ``period`` is not an integer >= 1.
    """

    __slots__ = (
        "_alpha",
        "_bars",
        "_close",
        "_dx",
        "_high",
        "_low",
        "_minus_dm",
        "_plus_dm",
        "_tr",
        "minus_di",
        "period",
        "plus_di",
        "value",
    )

    def __init__(self, period: int = 14) -> None:
        self.period = check_period("adx", "period", period)
        self._alpha = 1.0 / self.period
        self._bars = 0
        self._high = self._low = self._close = _NAN
        self._tr = self._plus_dm = self._minus_dm = 0.0
        self._dx = 0.0  # sum of DX during ADX's warm-up
        self.plus_di = self.minus_di = self.value = _NAN

    def update(self, high: float, low: float, close: float) -> float:
        """Add one bar; return ADX (NaN for the first ``2 * period - 1`` bars)."""
        bar = self._bars
        self._bars = bar + 1
        up = high - self._high
        down = self._low - low
        prev_close = self._close
        self._high, self._low, self._close = high, low, close
        if bar == 0:
            return _NAN
        plus_dm = up if up > down and up > 0.0 else 0.0
        minus_dm = down if down > up and down > 0.0 else 0.0
        tr = (high if high > prev_close else prev_close) - (low if low < prev_close else prev_close)
        period = self.period
        if bar > period:
            alpha = self._alpha
            self._tr += alpha * (tr - self._tr)
            self._plus_dm += alpha * (plus_dm - self._plus_dm)
            self._minus_dm += alpha * (minus_dm - self._minus_dm)
        else:
            self._tr += tr
            self._plus_dm += plus_dm
            self._minus_dm += minus_dm
            if bar < period:
                return _NAN
            self._tr /= period
            self._plus_dm /= period
            self._minus_dm /= period
        smoothed_tr = self._tr
        if smoothed_tr != 0.0:
            self.plus_di = plus_di = 100.0 * self._plus_dm / smoothed_tr
            self.minus_di = minus_di = 100.0 * self._minus_dm / smoothed_tr
        else:
            self.plus_di = plus_di = self.minus_di = minus_di = 0.0
        total = plus_di + minus_di
        dx = 100.0 * abs(plus_di - minus_di) / total if total != 0.0 else 0.0
        first_adx = 2 * period - 1
        if bar > first_adx:
            self.value = value = self.value + self._alpha * (dx - self.value)
            return value
        self._dx += dx
        if bar == first_adx:
            self.value = self._dx / period
        return self.value
