"""Per-update cost of the incremental classes (``pytest -m bench``; prints a table).

The tick loop must sustain 250,000 bars/s overall, 4 µs per bar for everything; an SMA
update is budgeted at under 0.5 µs, the others at about 2.5x their cost on an idle 2-core
development machine (timings on a shared machine vary by 2x).
"""

from __future__ import annotations

import timeit

import numpy as np
import pytest

from papertape.engine import indicators as ind

CASES = [
    ("SMA(20)", lambda: ind.SMA(20), "c", 0.5e-6),
    ("EMA(20)", lambda: ind.EMA(20), "c", 0.5e-6),
    ("RSI(14)", lambda: ind.RSI(14), "c", 1e-6),
    ("MACD(12,26,9)", lambda: ind.MACD(), "c", 1.5e-6),
    ("ATR(14)", lambda: ind.ATR(14), "hlc", 0.75e-6),
    ("ADX(14)", lambda: ind.ADX(14), "hlc", 2e-6),
    ("BollingerBands(20)", lambda: ind.BollingerBands(20), "c", 2e-6),
    ("ZScore(20)", lambda: ind.ZScore(20), "c", 2e-6),
    ("VWAP()", lambda: ind.VWAP(), "hlcv", 0.75e-6),
    ("RollingVWAP(20)", lambda: ind.RollingVWAP(20), "hlcv", 1e-6),
    ("OBV()", lambda: ind.OBV(), "cv", 0.5e-6),
    ("Choppiness(14)", lambda: ind.Choppiness(14), "hlc", 3e-6),
    ("TrendSlope(20)", lambda: ind.TrendSlope(20), "c", 2e-6),
    ("TrendSlope(20, log)", lambda: ind.TrendSlope(20, log=True), "c", 2e-6),
]


@pytest.mark.bench
@pytest.mark.parametrize(("name", "make", "fields", "budget"), CASES, ids=[c[0] for c in CASES])
def test_update_cost(sp500, name, make, fields, budget):
    columns = {"h": sp500.high, "l": sp500.low, "c": sp500.close, "v": sp500.volume}
    rows = list(zip(*(np.asarray(columns[f]).tolist() for f in fields), strict=True))

    def replay() -> None:
        update = make().update
        for row in rows:
            update(*row)

    per_update = min(timeit.repeat(replay, number=10, repeat=7)) / (10 * len(rows))
    print(f"{name:22s} {per_update * 1e9:6.0f} ns/update")
    assert per_update < budget
