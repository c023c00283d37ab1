"""The public API of ``engine.indicators`` is exactly its ``__all__``."""

from __future__ import annotations

import inspect

import papertape.engine.indicators as ind

EXPECTED = {
    # vectorised functions
    "sma", "ema", "macd", "rsi", "atr", "adx", "bollinger", "zscore", "vwap", "rolling_vwap",
    "obv", "choppiness", "trend_slope", "true_range", "typical_price",
    # their multi-series results
    "MACDSeries", "ADXSeries", "BollingerSeries",
    # incremental classes
    "SMA", "EMA", "MACD", "RSI", "ATR", "ADX", "BollingerBands", "ZScore", "VWAP",
    "RollingVWAP", "OBV", "Choppiness", "TrendSlope",
}  # fmt: skip


def test_all_lists_exactly_the_public_api():
    assert set(ind.__all__) == EXPECTED
    assert len(ind.__all__) == len(EXPECTED)


def test_every_exported_name_resolves_and_nothing_else_is_public():
    for name in ind.__all__:
        assert getattr(ind, name) is not None
    public = {
        name
        for name, member in vars(ind).items()
        if not name.startswith("_") and not inspect.ismodule(member) and name != "annotations"
    }
    assert public == set(ind.__all__)


def test_incremental_classes_are_slotted_with_a_value():
    for name in ind.__all__:
        member = getattr(ind, name)
        if inspect.isclass(member) and hasattr(member, "update"):
            assert "__dict__" not in dir(member), name
            assert hasattr(member, "value"), name
