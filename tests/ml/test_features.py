from __future__ import annotations

import math

import numpy as np
import pytest

from papertape.engine.errors import ConfigError, DataError
from papertape.engine.feeds.base import BarSeries
from papertape.ml.features import (
    ALL_FEATURES,
    FeatureScaler,
    FeatureSpec,
    OnlineFeatures,
    feature_matrix,
    first_complete_row,
)

ALL = FeatureSpec(names=ALL_FEATURES)


def _reference(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, spec: FeatureSpec
) -> dict[str, np.ndarray]:
    """Textbook numpy versions of each feature, written independently of ml.features."""
    n = len(close)
    out = {k: np.full(n, np.nan) for k in ALL_FEATURES}
    lr = np.full(n, np.nan)
    lr[1:] = np.log(close[1:] / close[:-1])
    out["log_return"] = lr
    w = spec.vol_window
    for t in range(w, n):
        out["volatility"][t] = np.std(lr[t - w + 1 : t + 1], ddof=1) * math.sqrt(
            spec.periods_per_year
        )
    m = spec.momentum_window
    out["momentum"][m:] = np.log(close[m:] / close[:-m])
    k = spec.trend_window
    for t in range(k - 1, n):
        slope = np.polyfit(np.arange(k), np.log(close[t - k + 1 : t + 1]), 1)[0]
        out["trend"][t] = slope * spec.periods_per_year
    for t in range(n):
        out["drawdown"][t] = (
            close[t] / close[max(0, t - spec.drawdown_window + 1) : t + 1].max() - 1
        )
    p = spec.atr_window
    tr = np.maximum(high[1:], close[:-1]) - np.minimum(low[1:], close[:-1])  # from bar 1
    atr = np.full(n, np.nan)
    atr[p] = tr[:p].mean()
    for t in range(p + 1, n):
        atr[t] = atr[t - 1] + (tr[t - 1] - atr[t - 1]) / p
    out["atr_pct"] = atr / close
    return out


def test_every_feature_matches_a_textbook_reference(spx_short: BarSeries) -> None:
    hi, lo, c = (np.asarray(a[:400]) for a in (spx_short.high, spx_short.low, spx_short.close))
    got = feature_matrix(hi, lo, c, ALL)
    ref = _reference(hi, lo, c, ALL)
    first = first_complete_row(got)
    assert first == 21  # 21 returns for the volatility; ATR (14) and trend (21 closes) are ready
    for j, name in enumerate(ALL.names):
        np.testing.assert_allclose(
            got[first:, j], ref[name][first:], rtol=1e-9, atol=1e-12, err_msg=name
        )


def test_warm_up_is_the_volatility_window_for_default_features(spx_short: BarSeries) -> None:
    x = feature_matrix(spx_short.high, spx_short.low, spx_short.close, FeatureSpec())
    assert first_complete_row(x) == 21
    assert np.isnan(x[20]).any() and np.isfinite(x[21]).all()


def test_features_of_a_prefix_equal_the_prefix_of_the_features(spx_short: BarSeries) -> None:
    full = feature_matrix(spx_short.high, spx_short.low, spx_short.close, ALL)
    for n in (30, 253, 700):
        part = feature_matrix(spx_short.high[:n], spx_short.low[:n], spx_short.close[:n], ALL)
        np.testing.assert_array_equal(part, full[:n])


def test_online_update_matches_the_matrix_row_by_row(spx_short: BarSeries) -> None:
    state = OnlineFeatures(ALL)
    full = feature_matrix(spx_short.high, spx_short.low, spx_short.close, ALL)
    for t in range(300):
        row = state.update(
            float(spx_short.high[t]), float(spx_short.low[t]), float(spx_short.close[t])
        )
        if row is None:
            assert np.isnan(full[t]).any()
        else:
            assert row == tuple(full[t])


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"names": ("log_return", "vol")}, "features"),
        ({"names": ("log_return", "momentum")}, "features"),
        ({"names": ("volatility", "volatility")}, "features"),
        ({"vol_window": 1}, "features.vol_window"),
        ({"periods_per_year": 0.0}, "features.periods_per_year"),
    ],
)
def test_bad_specs_are_refused_naming_the_key(kwargs: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as err:
        FeatureSpec(**kwargs)  # type: ignore[arg-type]
    assert err.value.key == key


def test_spec_round_trips_through_a_dict() -> None:
    spec = FeatureSpec(names=("volatility", "trend"), trend_window=10)
    assert FeatureSpec.from_dict(spec.to_dict()) == spec


def test_non_positive_close_is_a_data_error() -> None:
    state = OnlineFeatures(FeatureSpec())
    state.update(1.0, 1.0, 1.0)
    with pytest.raises(DataError):
        state.update(1.0, 0.0, 0.0)


def test_scaler_standardises_its_training_rows_and_ignores_incomplete_rows() -> None:
    rng = np.random.default_rng(3)
    rows = rng.normal(5.0, 2.0, size=(500, 3))
    rows[:10] = np.nan
    scaler = FeatureScaler.fit(rows)
    z = scaler.transform(rows[10:])
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=0, ddof=1), 1.0, atol=1e-12)
    assert np.isnan(scaler.transform(rows[:1])).all()
    assert FeatureScaler.from_dict(scaler.to_dict()) == scaler


def test_scaler_of_a_constant_column_does_not_divide_by_zero() -> None:
    rows = np.column_stack([np.ones(10), np.arange(10.0)])
    z = FeatureScaler.fit(rows).transform(rows)
    assert np.isfinite(z).all() and (z[:, 0] == 0).all()
