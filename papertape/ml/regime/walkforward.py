"""Walk-forward (expanding window) regime labels: every label is out of sample.

For each test block of ``refit_years`` calendar years starting at ``first_test_year``, a
model is fitted (scaler and detector) on all bars *before* the block, then run forward over
the bars up to the end of the block only; the block's probabilities are kept. Bars before the
first block get no label. The result is what a trader refitting once a year would have seen.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from papertape.engine.errors import ConfigError, DataError
from papertape.ml.features import FeatureSpec, feature_matrix
from papertape.ml.regime.model import detector_class, fit_regime_model, iso_time

if TYPE_CHECKING:
    from papertape.engine.feeds.base import BarSeries
    from papertape.ml.regime.base import FloatArray

__all__ = ["Refit", "WalkForward", "bar_years", "walk_forward"]


@dataclass(frozen=True, slots=True)
class Refit:
    """One refit of the walk-forward.

    Attributes:
        train_last: Time of the last training bar (ISO 8601).
        test_first: Time of the first bar labelled with this fit.
        test_last: Time of the last bar labelled with this fit.
        train_rows: Complete feature rows the model was fitted on.
        seconds: Fit time.
        expected_durations: Expected stay per regime in bars, from the transition matrix
            (HMM only; empty otherwise).
    """

    train_last: str
    test_first: str
    test_last: str
    train_rows: int
    seconds: float
    expected_durations: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class WalkForward:
    """Out-of-sample regime probabilities of one detector over a series.

    Attributes:
        kind: Detector kind.
        names: Regime names, calmest first.
        time: Bar times (ns), all bars of the series.
        probs: ``(bars, regimes)``; NaN before the first test block and during warm-up.
        first_test: Index of the first bar of the first test block.
        refits: One entry per refit.
    """

    kind: str
    names: tuple[str, ...]
    time: np.ndarray[Any, np.dtype[np.int64]]
    probs: FloatArray
    first_test: int
    refits: tuple[Refit, ...]

    @property
    def labels(self) -> np.ndarray[Any, np.dtype[np.int64]]:
        """Regime index per bar (``-1`` where there is no out-of-sample label)."""
        ok = np.isfinite(self.probs).all(axis=1)
        return np.where(ok, np.nan_to_num(self.probs).argmax(axis=1), -1).astype(np.int64)


def bar_years(times: np.ndarray[Any, np.dtype[np.int64]]) -> np.ndarray[Any, np.dtype[np.int64]]:
    """UTC calendar year of each bar."""
    return np.asarray(times, dtype="datetime64[ns]").astype("datetime64[Y]").astype(np.int64) + 1970


def walk_forward(
    series: BarSeries,
    kind: str,
    *,
    spec: FeatureSpec | None = None,
    first_test_year: int = 2000,
    refit_years: int = 1,
    n_regimes: int = 3,
    hyperparameters: Mapping[str, Any] | None = None,
    seed: int = 0,
    on_refit: Callable[[int, int], None] | None = None,
) -> WalkForward:
    """Fit on an expanding window, label the next block out of sample, repeat.

    Args:
        series: The bars.
        kind: Detector kind.
        spec: Feature spec (default features when omitted).
        first_test_year: Calendar year of the first out-of-sample block.
        refit_years: Years per block (refit frequency).
        n_regimes: Number of regimes.
        hyperparameters: Detector hyperparameters.
        seed: Seed of every fit.
        on_refit: ``on_refit(done, total)`` after each refit (progress display).

    Raises:
        ConfigError: If ``refit_years`` < 1 or the first test year leaves no data on a side.
    """
    detector_class(kind)  # fail early on an unknown kind or a missing dependency
    if refit_years < 1:
        raise ConfigError("--refit-every", refit_years, "must be >= 1 year")
    spec = spec or FeatureSpec()
    times = np.asarray(series.time, dtype=np.int64)
    years = bar_years(times)
    if not years[0] < first_test_year <= years[-1]:
        raise ConfigError(
            "--first-test-year",
            first_test_year,
            f"must be after the first year of the data and not after its last "
            f"(data: {years[0]}-{years[-1]})",
        )
    raw = feature_matrix(series.high, series.low, series.close, spec)
    probs = np.full((len(times), n_regimes), np.nan)
    blocks = list(range(first_test_year, int(years[-1]) + 1, refit_years))
    refits: list[Refit] = []
    names: tuple[str, ...] = ()
    for i, year in enumerate(blocks):
        start = int(np.searchsorted(years, year, "left"))
        stop = int(np.searchsorted(years, year + refit_years, "left"))
        t0 = time.perf_counter()
        model = fit_regime_model(
            raw,
            start,
            spec,
            kind,
            n_regimes=n_regimes,
            hyperparameters=hyperparameters,
            seed=seed,
        )
        seconds = time.perf_counter() - t0
        block = model.filter_raw(raw[:stop])  # nothing after the block's last bar is given
        probs[start:stop] = block[start:stop]
        names = model.names
        durations: dict[str, float] = {}
        if kind == "hmm":
            durations = model.detector.expected_durations()  # type: ignore[attr-defined]
        refits.append(
            Refit(
                iso_time(int(times[start - 1])),
                iso_time(int(times[start])),
                iso_time(int(times[stop - 1])),
                int(np.isfinite(raw[:start]).all(axis=1).sum()),
                round(seconds, 3),
                durations,
            )
        )
        if on_refit is not None:
            on_refit(i + 1, len(blocks))
    if not refits:
        raise DataError("no walk-forward block fits in the data")
    first = int(np.searchsorted(years, first_test_year, "left"))
    return WalkForward(kind, names, times, probs, first, tuple(refits))


def parse_year(text: str) -> int:
    """A year from ``2000`` or a date like ``2000-01-01``."""
    try:
        return int(text) if text.isdigit() else dt.date.fromisoformat(text).year
    except ValueError:
        raise ConfigError("--first-test-year", text, "expected a year like 2000") from None
