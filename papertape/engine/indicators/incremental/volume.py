"""Incremental volume indicators: VWAP (cumulative and rolling) and on-balance volume."""

from __future__ import annotations

import math

from papertape.engine.indicators._params import check_period

__all__ = ["OBV", "VWAP", "RollingVWAP"]

_NAN = math.nan


class VWAP:
    """Cumulative volume-weighted average of the typical price since the first bar."""

    __slots__ = ("_pv", "_volume", "value")

    def __init__(self) -> None:
        self._pv = 0.0
        self._volume = 0.0
        self.value = _NAN

    def update(self, high: float, low: float, close: float, volume: float) -> float:
        """Add one bar; return the VWAP so far (NaN while there has been no volume)."""
        self._pv += (high + low + close) / 3.0 * volume
        self._volume += volume
        if self._volume != 0.0:
            self.value = value = self._pv / self._volume
            return value
        self.value = _NAN
        return _NAN


class RollingVWAP:
    """Volume-weighted average of the typical price over the last ``period`` bars.

    Args:
        period: Window length, at least 1.

    Raises:
        ConfigError: If ``period`` is not an integer >= 1.
    """

    __slots__ = (
        "_index",
        "_pv",
        "_pv_ring",
        "_ready",
        "_volume",
        "_volume_ring",
        "period",
        "value",
    )

    def __init__(self, period: int) -> None:
        self.period = check_period("rolling_vwap", "period", period)
        self._pv_ring = [0.0] * self.period
        self._volume_ring = [0.0] * self.period
        self._index = 0
        self._pv = 0.0
        self._volume = 0.0
        self._ready = False
        self.value = _NAN

    def update(self, high: float, low: float, close: float, volume: float) -> float:
        """Add one bar; return the window's VWAP (NaN until full or without volume)."""
        pv = (high + low + close) / 3.0 * volume
        pv_ring = self._pv_ring
        volume_ring = self._volume_ring
        i = self._index
        self._pv += pv - pv_ring[i]
        self._volume += volume - volume_ring[i]
        pv_ring[i] = pv
        volume_ring[i] = volume
        i += 1
        if i == self.period:
            i = 0
            self._pv = math.fsum(pv_ring)
            self._volume = math.fsum(volume_ring)
            self._ready = True
        self._index = i
        if self._ready and self._volume != 0.0:
            self.value = value = self._pv / self._volume
            return value
        self.value = _NAN
        return _NAN


class OBV:
    """On-balance volume, TA-Lib's convention (unchanged close: unchanged OBV)."""

    __slots__ = ("_close", "value")

    def __init__(self) -> None:
        self._close = _NAN
        self.value = 0.0

    def update(self, close: float, volume: float) -> float:
        """Add one bar; return the OBV (the first bar's volume on the first bar)."""
        prev = self._close
        self._close = close
        if close > prev:
            self.value += volume
        elif close < prev:
            self.value -= volume
        elif prev != prev:  # first bar: no previous close
            self.value = volume
        return self.value
