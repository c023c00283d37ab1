"""Loading a 1M-row minute CSV: cold (parse + validate), warm (cache), and pandas for scale.

Run with ``pytest benchmarks/bench_load.py -m bench -s`` (excluded from the default suite),
or ``python benchmarks/bench_load.py [--rounds N]``. It writes a 1M-row minute OHLCV file
(~69 MB, ISO times with ``Z``) into a temporary folder and times, best of ``--rounds`` each:

* ``cold``: :func:`papertape.engine.feeds.load_bars` with the cache off (parse + validate);
* ``cold_text``: the same with the pure-Python text reader (the fallback, and the old path);
* ``warm``: the second load of the file through the cache (memory-mapped columns);
* ``pandas``: ``pandas.read_csv`` of the same file, parsing nothing but numbers (its times stay
  strings), and ``pandas_dates`` with ``parse_dates`` (what a backtest needs);
* ``fresh_papertape`` / ``fresh_pandas_dates``: a cold load as the first call of a new process,
  as ``papertape run`` does it (both libraries pay first-call costs: thread pools, allocators).

``--startup`` times instead what ``papertape run`` does before its first bar (imports, config,
load, data hash) in new processes, with an empty cache and then a filled one.

Figures go to stdout and into ``.benchmarks/load.json``; docs/data.md quotes them.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from papertape.engine.feeds.loader import load_bars

pytestmark = pytest.mark.bench
OUT = Path(__file__).resolve().parents[1] / ".benchmarks" / "load.json"
ROWS = 1_000_000


def write_minute_csv(path: Path, rows: int = ROWS, seed: int = 1) -> Path:
    """A minute OHLCV file like an exchange export (ISO times, 6-8 significant digits)."""
    rng = np.random.default_rng(seed)
    stamps = np.datetime_as_string(
        np.datetime64("2020-01-01T00:00", "s") + np.arange(rows).astype("timedelta64[m]"),
        unit="s",
    )
    close = 100.0 + np.cumsum(rng.normal(size=rows)) * 0.01
    volume = rng.random(rows) * 1000
    with path.open("w") as out:
        out.write("timestamp,open,high,low,close,volume\n")
        out.writelines(
            f"{t}Z,{c:.6f},{c + 1:.6f},{c - 1:.6f},{c:.6f},{v:.3f}\n"
            for t, c, v in zip(stamps, close, volume, strict=True)
        )
    return path


def _best(fn: Callable[[], object], rounds: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times), times


def measure(rounds: int = 3, rows: int = ROWS, text_reader: bool = True) -> dict[str, Any]:
    """Time each way of loading one generated file; seconds, best of ``rounds``."""
    import pandas as pd

    with tempfile.TemporaryDirectory() as folder:
        path = write_minute_csv(Path(folder) / "BIG.csv", rows)
        cache = Path(folder) / "cache"
        figures: dict[str, Any] = {"rows": rows, "bytes": path.stat().st_size}

        def cold() -> None:
            assert len(load_bars(path, cache=False)) == rows

        def warm() -> None:
            assert len(load_bars(path, cache=cache)) == rows

        load_bars(path, cache=cache)  # fill the cache
        runs: dict[str, Callable[[], object]] = {
            "cold": cold,
            "warm": warm,
            "pandas": lambda: pd.read_csv(path),
            "pandas_dates": lambda: pd.read_csv(path, parse_dates=["timestamp"]),
        }
        if text_reader:
            runs["cold_text"] = lambda: load_bars(path, cache=False, engine="text")
        for name, fn in runs.items():
            best, all_times = _best(fn, rounds)
            figures[name] = round(best, 4)
            figures[f"{name}_all"] = [round(t, 4) for t in all_times]
        for name in ("papertape", "pandas_dates"):
            all_times = [_fresh_process(name, path) for _ in range(rounds)]
            figures[f"fresh_{name}"] = round(min(all_times), 4)
            figures[f"fresh_{name}_all"] = [round(t, 4) for t in all_times]
        figures["cold_rows_per_s"] = round(rows / figures["cold"])
    return figures


_FRESH = """
import sys, time
path = sys.argv[2]
if sys.argv[1] == "pandas_dates":
    import pandas as pd
    started = time.perf_counter()
    pd.read_csv(path, parse_dates=["timestamp"])
else:
    import pyarrow.csv
    from papertape.engine.feeds.loader import load_bars
    started = time.perf_counter()
    load_bars(path, cache=False)
print(time.perf_counter() - started)
"""


_STARTUP = """
import sys, time
started = time.perf_counter()
from papertape.engine.config import load_config
from papertape.engine.session import data_hash, load_series
imported = time.perf_counter()
series = load_series(load_config(sys.argv[1]))
data_hash(series)
print(imported - started, time.perf_counter() - imported)
"""


def measure_startup(rounds: int = 3, rows: int = ROWS) -> dict[str, Any]:
    """What ``papertape run`` does before its first bar, in a new process: cold, then cached.

    Each round empties the cache, then starts two processes that import the engine, read a
    one-file config and load + hash its data (``PAPERTAPE_CACHE_DIR`` points at a temporary
    folder). Seconds for the whole process and for the load alone.
    """
    import os
    import shutil

    figures: dict[str, Any] = {"rows": rows}
    with tempfile.TemporaryDirectory() as folder:
        path = write_minute_csv(Path(folder) / "BIG.csv", rows)
        config = Path(folder) / "run.toml"
        config.write_text(
            f'[[data]]\npath = "{path}"\n[[strategies]]\nname = "sma_cross"\n'
            "params = { fast = 10, slow = 30 }\n"
        )
        cache = Path(folder) / "cache"
        env = {**os.environ, "PAPERTAPE_CACHE_DIR": str(cache)}
        for _ in range(rounds):
            shutil.rmtree(cache, ignore_errors=True)
            for name in ("cold", "warm"):
                started = time.perf_counter()
                done = subprocess.run(
                    [sys.executable, "-c", _STARTUP, str(config)],
                    capture_output=True,
                    text=True,
                    check=True,
                    env=env,
                )
                total = time.perf_counter() - started
                imports, load = map(float, done.stdout.split())
                figures.setdefault(f"{name}_process", []).append(round(total, 3))
                figures.setdefault(f"{name}_imports", []).append(round(imports, 3))
                figures.setdefault(f"{name}_load_and_hash", []).append(round(load, 3))
    return figures


def _fresh_process(which: str, path: Path) -> float:
    """Seconds one load takes as the first call of a new process (imports excluded)."""
    done = subprocess.run(
        [sys.executable, "-c", _FRESH, which, str(path)], capture_output=True, text=True, check=True
    )
    return float(done.stdout.strip().splitlines()[-1])


def _save(figures: dict[str, Any], name: str = "load_1m_minute_csv") -> None:
    OUT.parent.mkdir(exist_ok=True)
    data = json.loads(OUT.read_text()) if OUT.exists() else {}
    data[name] = figures
    OUT.write_text(json.dumps(data, indent=2))
    print(json.dumps(figures, indent=2))


def test_load_is_at_least_as_fast_as_pandas_and_warm_well_under_a_second() -> None:
    figures = measure(rounds=3, text_reader=False)
    _save(figures)

    assert figures["cold"] <= figures["pandas_dates"] * 1.5  # noisy shared machines
    assert figures["warm"] < 0.5


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--no-text", action="store_true", help="skip the slow text reader")
    parser.add_argument(
        "--startup", action="store_true", help="time papertape's start-up instead (cold/warm)"
    )
    args = parser.parse_args()
    if args.startup:
        _save(measure_startup(args.rounds, args.rows), "startup_1m_minute_csv")
    else:
        _save(measure(args.rounds, args.rows, text_reader=not args.no_text))
