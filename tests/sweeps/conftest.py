"""Small sweep configs on shipped or seeded synthetic data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from papertape.engine.bench import synthetic_series

SMALL = """
[run]
name = "sweep-test"
seed = 7
initial_cash = 100000.0

[[data]]
path = "{path}"
symbol = "SPX"

[execution]
fill_at = "next_open"
taker_bps = 5.0
slippage = {{ model = "fixed", bps = 2.0 }}

[[strategies]]
name = "sma_cross"
id = "sma"
params = {{ fast = 20, slow = 100 }}
sizer = {{ name = "fraction", fraction = 0.95 }}

[sweep]
strategy = "sma"
where = ["fast < slow"]
pbo_splits = 8

[sweep.params]
fast = {fast}
slow = {slow}

[journal]
dir = "journals"
"""


def write_config(
    folder: Path,
    path: str = "sp500_daily.csv",
    fast: list[int] | None = None,
    slow: list[int] | None = None,
) -> Path:
    """A sweep config in ``folder``; the default grid has 5 cells (one dropped by ``where``)."""
    text = SMALL.format(path=path, fast=fast or [10, 30, 60], slow=slow or [50, 120])
    cfg = folder / "sweep.toml"
    cfg.write_text(text, encoding="utf-8")
    return cfg


@pytest.fixture
def small_config(tmp_path: Path) -> Path:
    """Five SMA cells on the shipped S&P 500 daily bars."""
    return write_config(tmp_path)


def write_synthetic_csv(folder: Path, bars: int, seed: int = 3) -> Path:
    """Seeded GBM minute bars as a CSV file."""
    s = synthetic_series("SYN", bars, seed)
    stamps = np.datetime_as_string(s.time.astype("datetime64[ns]"), unit="s")
    rows = [
        f"{t}Z,{o!r},{h!r},{lo!r},{c!r},{v!r}"
        for t, o, h, lo, c, v in zip(
            stamps,
            s.open.tolist(),
            s.high.tolist(),
            s.low.tolist(),
            s.close.tolist(),
            s.volume.tolist(),
            strict=True,
        )
    ]
    path = folder / "synthetic.csv"
    path.write_text("timestamp,open,high,low,close,volume\n" + "\n".join(rows) + "\n")
    return path
