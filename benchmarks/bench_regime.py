"""Speed targets of the regime detectors (not part of the default suite).

Run with ``python -m pytest benchmarks/bench_regime.py -m bench -s``. Targets, on CPU:

* inference for one snapshot (the annotator's whole per-tick work: incremental features,
  scaling, the detector's forward step, the reading) under 1 ms for every detector;
* training each detector with its default hyperparameters on 20 years of daily data
  (sp500_daily.csv, about 5,000 bars) in under 60 s.

Each test prints its figures; the assertions are the targets.
"""

from __future__ import annotations

import statistics
import time
from importlib.resources import files
from pathlib import Path

import pytest

from papertape.engine.feeds.base import BarSeries
from papertape.engine.feeds.loader import load_bars
from papertape.engine.market import ReplayHistory
from papertape.engine.snapshot import Snapshot
from papertape.ml.regime.model import RegimeModel, detector_class, train_regime_model
from papertape.plugins.regime import RegimeAnnotator

pytestmark = pytest.mark.bench

KINDS = ("heuristic", "hmm", "vae", "transformer")
SPX = Path(str(files("papertape.engine") / "data" / "sp500_daily.csv"))
_MODELS: dict[str, RegimeModel] = {}


@pytest.fixture(scope="module")
def spx() -> BarSeries:
    return load_bars(SPX, symbol="SPX")


@pytest.mark.parametrize("kind", KINDS)
def test_training_on_20_years_takes_under_60_s(kind: str, spx: BarSeries) -> None:
    detector_class(kind)  # imports (torch, hmmlearn, scikit-learn) are not training time
    start = time.perf_counter()
    model = train_regime_model(spx, kind, seed=7, source=SPX)
    seconds = time.perf_counter() - start
    _MODELS[kind] = model
    print(f"\n{kind}: trained on {len(spx)} bars in {seconds:.2f} s")
    assert seconds < 60.0


@pytest.mark.parametrize("kind", KINDS)
def test_inference_per_snapshot_is_under_1_ms(kind: str, spx: BarSeries) -> None:
    model = _MODELS.get(kind) or train_regime_model(spx, kind, seed=7)
    annotator = RegimeAnnotator(model, symbol="SPX")
    history = ReplayHistory(spx)
    snaps = [
        Snapshot(int(spx.time[i]), "SPX", float(spx.close[i]), (i + 1,), ("SPX",), (history,))
        for i in range(len(spx))
    ]
    per_snap = []
    for snap in snaps:
        t0 = time.perf_counter()
        annotator.papertape_annotate(snap)
        per_snap.append(time.perf_counter() - t0)
    steady = sorted(per_snap[100:])
    mean = statistics.fmean(steady)
    median = steady[len(steady) // 2]
    p99 = steady[int(len(steady) * 0.99)]
    print(
        f"\n{kind}: per snapshot mean {mean * 1e6:.0f} µs, median {median * 1e6:.0f} µs, "
        f"p99 {p99 * 1e6:.0f} µs over {len(steady)} snapshots"
    )
    assert mean < 1e-3 and median < 1e-3
