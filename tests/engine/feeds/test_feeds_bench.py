"""Load-speed checks on a generated million-row file (run with ``pytest -m bench``)."""

from __future__ import annotations

import time as clock
from pathlib import Path

import numpy as np
import pytest

from papertape.engine.feeds.csv import load_csv

ROWS = 1_000_000


@pytest.fixture(scope="module")
def million_row_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(1)
    stamps = np.datetime_as_string(
        np.datetime64("2020-01-01T00:00", "ns") + np.arange(ROWS).astype("timedelta64[m]"),
        unit="s",
    )
    close = 100.0 + np.cumsum(rng.normal(size=ROWS)) * 0.01
    path = tmp_path_factory.mktemp("bench") / "BIG.csv"
    with path.open("w") as out:
        out.write("timestamp,open,high,low,close,volume\n")
        out.writelines(
            f"{t}Z,{c:.6f},{c + 1:.6f},{c - 1:.6f},{c:.6f},{v:.3f}\n"
            for t, c, v in zip(stamps, close, rng.random(ROWS) * 1000, strict=True)
        )
    return path


@pytest.mark.bench
def test_million_row_csv_loads_in_a_few_seconds(million_row_csv: Path) -> None:
    started = clock.perf_counter()
    series = load_csv(million_row_csv, cache=False)
    elapsed = clock.perf_counter() - started

    print(f"\nload_csv: {ROWS} rows in {elapsed:.2f}s ({ROWS / elapsed:,.0f} rows/s)")
    assert len(series) == ROWS
    assert elapsed < 5.0
