"""Same table at any worker count or backend; resumes after a kill; overfitting measured."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from papertape.analysis.significance import (
    deflated_sharpe_ratio,
    probability_of_backtest_overfitting,
)
from papertape.sweeps import load_sweep, run_sweep
from papertape.sweeps.overfitting import per_period_sharpe
from tests.sweeps.conftest import write_config, write_synthetic_csv

REPO = Path(__file__).resolve().parents[2]


def test_one_and_two_workers_give_byte_identical_tables(small_config: Path, tmp_path: Path) -> None:
    base, spec = load_sweep(small_config)
    one = run_sweep(base, spec, workers=1, folder=tmp_path / "one")
    two = run_sweep(base, spec, workers=2, folder=tmp_path / "two")
    assert one.ran == two.ran == 5
    assert one.table().encode() == two.table().encode()
    assert len(one.table().splitlines()) == 6
    assert len({r.metrics["sharpe"] for r in one.results}) > 1  # cells really differ


def test_ray_local_gives_the_same_table(small_config: Path, tmp_path: Path) -> None:
    base, spec = load_sweep(small_config)
    local = run_sweep(base, spec, workers=1, folder=tmp_path / "local")
    on_ray = run_sweep(base, spec, ray="auto", folder=tmp_path / "ray")
    assert on_ray.ran == 5
    assert on_ray.table().encode() == local.table().encode()


def test_a_finished_sweep_reuses_every_cell(small_config: Path, tmp_path: Path) -> None:
    base, spec = load_sweep(small_config)
    first = run_sweep(base, spec, folder=tmp_path / "s")
    again = run_sweep(base, spec, folder=tmp_path / "s")
    assert (again.ran, again.reused) == (0, 5)
    assert again.table() == first.table()


def test_a_killed_sweep_resumes_and_ends_with_the_same_table(tmp_path: Path) -> None:
    data = write_synthetic_csv(tmp_path, 40_000)
    cfg = write_config(tmp_path, path=str(data), fast=[5, 10, 20, 40], slow=[60, 80, 100, 150])
    killed = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [
        sys.executable,
        "-m",
        "papertape.engine.cli.main",
        "sweep",
        str(cfg),
        "--workers",
        "1",
        "--out",
        str(killed),
        "--no-progress",
        "--json",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    finished: list[Path] = []
    while time.monotonic() < deadline and proc.poll() is None:
        finished = [p for p in (killed / "cells").glob("*.json") if ".part" not in p.name]
        if len(finished) >= 3:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_at_kill = [p for p in (killed / "cells").glob("*.json") if ".part" not in p.name]
    assert proc.stderr is not None
    assert 3 <= len(done_at_kill) < 16, proc.stderr.read().decode()[-2000:]

    base, spec = load_sweep(cfg)
    resumed = run_sweep(base, spec, workers=2, folder=killed)
    fresh = run_sweep(base, spec, workers=1, folder=tmp_path / "fresh")
    assert resumed.reused == len(done_at_kill)
    assert resumed.ran == 16 - len(done_at_kill)
    assert resumed.table().encode() == fresh.table().encode()


def test_overfitting_is_dsr_of_the_best_cell_and_pbo_of_the_grid(
    small_config: Path, tmp_path: Path
) -> None:
    base, spec = load_sweep(small_config)
    out = run_sweep(base, spec, folder=tmp_path / "s")
    sharpes = [per_period_sharpe(r.returns) for r in out.results]
    best = int(np.argmax(sharpes))
    r = out.results[best].returns
    z = (r - r.mean()) / r.std()
    expected_dsr = deflated_sharpe_ratio(
        sharpes[best],
        n_trials=5,
        n_obs=len(r),
        skew=float(np.mean(z**3)),
        kurtosis=float(np.mean(z**4)),
        sharpe_std_across_trials=float(np.std(sharpes, ddof=1)),
    )
    matrix = np.column_stack([c.returns for c in out.results])
    expected_pbo = probability_of_backtest_overfitting(matrix, 8).pbo
    o = out.overfitting
    assert o.best_task == out.results[best].task_id
    assert o.n_trials == 5 and o.pbo_splits == 8
    assert o.deflated_sharpe == pytest.approx(expected_dsr, rel=1e-9)
    assert o.pbo == pytest.approx(expected_pbo)
    # the returns are the cell's equity curve, bar to bar
    assert float(np.prod(1.0 + r) - 1.0) == pytest.approx(out.results[best].metrics["total_return"])
    assert o.expected_max_sharpe > 0
    json.dumps(o.as_dict())


def test_ctrl_c_stops_cleanly_and_says_how_to_continue(tmp_path: Path) -> None:
    data = write_synthetic_csv(tmp_path, 40_000)
    cfg = write_config(tmp_path, path=str(data), fast=[5, 10, 20, 40], slow=[60, 80, 100, 150])
    folder = tmp_path / "stopped"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [
        sys.executable,
        "-m",
        "papertape.engine.cli.main",
        "sweep",
        str(cfg),
        "--workers",
        "1",
        "--out",
        str(folder),
        "--no-progress",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if len([p for p in (folder / "cells").glob("*.json") if ".part" not in p.name]) >= 2:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    kept = [p for p in (folder / "cells").glob("*.json") if ".part" not in p.name]
    assert proc.returncode == 130, err.decode()[-2000:]
    assert f"sweep stopped: {len(kept)} of 16 cells finished" in err.decode().replace("\n", " ")
    assert "run the same command again" in err.decode().replace("\n", " ")


def test_symbol_cells_trade_only_their_symbol(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, path="binance_eth_btc_5m.csv", fast=[10], slow=[50, 120])
    text = cfg.read_text().replace(
        'symbol = "SPX"',
        'symbol = "ETHBTC"\n\n[[data]]\npath = "binance_ltc_btc_5m.csv"\nsymbol = "LTCBTC"',
    )
    cfg.write_text(text.replace("pbo_splits = 8", 'pbo_splits = 8\nsymbols = ["ETHBTC", "LTCBTC"]'))
    base, spec = load_sweep(cfg)
    one = run_sweep(base, spec, workers=1, folder=tmp_path / "one")
    two = run_sweep(base, spec, workers=2, folder=tmp_path / "two")
    assert one.table().encode() == two.table().encode()
    assert [r.symbol for r in one.results] == ["ETHBTC", "ETHBTC", "LTCBTC", "LTCBTC"]
    eth, ltc = one.results[0], one.results[2]
    assert eth.metrics["total_return"] != ltc.metrics["total_return"]
    assert one.overfitting.n_trials == 4
