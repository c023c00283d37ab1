"""Fixtures of the ML tests: the shipped S&P 500 bars and tiny, seeded regime models.

Models are trained once per test session on a few years of data with few epochs and saved into
a temporary registry (nothing is committed); tests load them from there.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from papertape.engine.feeds.base import BarSeries
from papertape.engine.feeds.loader import load_bars

if TYPE_CHECKING:
    from papertape.ml.regime.model import RegimeModel

SPX_FILE = Path(str(files("papertape.engine") / "data" / "sp500_daily.csv"))
KINDS = ("heuristic", "hmm", "vae", "transformer")
TINY: dict[str, dict[str, Any]] = {
    "heuristic": {},
    "hmm": {"n_init": 1},
    "vae": {"epochs": 4, "hidden": 16},
    "transformer": {"epochs": 3, "d_model": 16, "ff": 32, "layers": 1},
}
TRAIN_END = "2002-12-31"


def head(series: BarSeries, n: int) -> BarSeries:
    """The first ``n`` bars of a series."""
    return BarSeries.from_arrays(
        series.symbol,
        series.time[:n],
        series.open[:n],
        series.high[:n],
        series.low[:n],
        series.close[:n],
        series.volume[:n],
        series.source,
    )


@pytest.fixture(scope="session")
def cut() -> Callable[[BarSeries, int], BarSeries]:
    """``cut(series, n)``: the first ``n`` bars of a series."""
    return head


@pytest.fixture(scope="session")
def spx() -> BarSeries:
    """All S&P 500 daily bars, 1999-2018."""
    return load_bars(SPX_FILE, symbol="SPX")


@pytest.fixture(scope="session")
def spx_short(spx: BarSeries) -> BarSeries:
    """1999-2004 (about 1,500 bars): enough for tiny models, quick to label."""
    n = int(np.searchsorted(spx.time, np.datetime64("2005-01-01", "ns").astype(np.int64)))
    return head(spx, n)


@pytest.fixture(scope="session")
def model_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary model registry for the session."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def fitted(spx_short: BarSeries, model_root: Path) -> Callable[[str], RegimeModel]:
    """``fitted(kind)``: a tiny model of that kind trained on 1999-2002, saved once (cached)."""
    from papertape.ml.regime.model import train_regime_model

    cache: dict[str, RegimeModel] = {}

    def get(kind: str) -> RegimeModel:
        if kind not in cache:
            model = train_regime_model(
                spx_short,
                kind,
                train_end=TRAIN_END,
                hyperparameters=TINY[kind],
                seed=7,
                source=SPX_FILE,
            )
            model.save(model_root / f"{kind}-spx")
            cache[kind] = model
        return cache[kind]

    return get


@pytest.fixture(scope="session")
def trained(fitted: Callable[[str], RegimeModel], model_root: Path) -> Callable[[str], Path]:
    """``trained(kind)``: the model folder of ``fitted(kind)``."""

    def get(kind: str) -> Path:
        fitted(kind)
        return model_root / f"{kind}-spx"

    return get
