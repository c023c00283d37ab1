"""Walk-forward: folds of train/test windows, each fold's in-sample winner scored out of sample."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from papertape.engine.errors import ConfigError
from papertape.engine.session import load_series, run_session
from papertape.sweeps import expand, load_sweep, parse_sweep, run_sweep
from papertape.sweeps.cells import walk_forward_windows
from tests.sweeps.conftest import write_config


def _walk_forward_config(tmp_path: Path) -> Path:
    cfg = write_config(tmp_path)
    text = cfg.read_text().replace(
        "pbo_splits = 8", "pbo_splits = 8\nwalk_forward = { train_bars = 1500, test_bars = 1000 }"
    )
    text = text.replace('name = "sweep-test"', 'name = "sweep-test"\nwarmup_bars = 150')
    cfg.write_text(text)
    return cfg


def test_folds_roll_forward_by_the_test_window(tmp_path: Path) -> None:
    base, spec = load_sweep(_walk_forward_config(tmp_path))
    times = load_series(base)[0].time
    windows = walk_forward_windows(spec, times)
    assert [label for label, _ in windows] == [
        "f0-train",
        "f0-test",
        "f1-train",
        "f1-test",
        "f2-train",
        "f2-test",
    ]  # 5031 bars: folds start at 0, 1000, 2000; a fourth would need 5500
    f1_train, f1_test = windows[2][1], windows[3][1]
    assert f1_train == (
        str(np.datetime_as_string(times[1000].astype("datetime64[ns]"), unit="ns")),
        str(np.datetime_as_string(times[2500].astype("datetime64[ns]"), unit="ns")),
    )
    assert f1_test[0] == f1_train[1]
    cells = expand(base, spec, load_series(base))
    assert len(cells) == 5 * 7 and len({c.run_id for c in cells}) == 35


def test_each_fold_scores_its_in_sample_winner_out_of_sample(tmp_path: Path) -> None:
    base, spec = load_sweep(_walk_forward_config(tmp_path))
    out = run_sweep(base, spec, workers=2, folder=tmp_path / "s")
    wf = out.walk_forward
    assert wf is not None and len(wf.folds) == 3
    assert out.overfitting.n_trials == 5  # DSR/PBO over the whole-data cells only
    for fold in wf.folds:
        train = [r for r in out.results if r.window == f"f{fold.fold}-train"]
        best = max(train, key=lambda r: r.metrics["sharpe"])
        assert fold.winner == best.task_id.split(";")[0]
        (test,) = [
            r
            for r in out.results
            if r.window == f"f{fold.fold}-test" and r.task_id.startswith(fold.winner + ";")
        ]
        assert fold.out_of_sample_sharpe == test.metrics["sharpe"]
        assert 0.0 <= fold.out_of_sample_rank <= 1.0
    # a test cell is an ordinary session on its window: the same numbers run by hand
    cell = next(c for c in expand(base, spec, load_series(base)) if c.window == "f1-test")
    by_hand = run_session(cell.config, journal=False)
    (strategy,) = by_hand.strategies.values()
    stored = next(r for r in out.results if r.run_id == cell.run_id)
    assert stored.metrics["sharpe"] == strategy.metrics.sharpe
    assert len(stored.returns) <= 1000  # the warm-up bars before the window do not trade


def test_walk_forward_needs_enough_bars(small_config: Path) -> None:
    base, spec = load_sweep(small_config)
    section = {
        "strategy": "sma",
        "params": spec.params,
        "walk_forward": {"train_bars": 5000, "test_bars": 1000},
    }
    with pytest.raises(ConfigError) as info:
        expand(base, parse_sweep(section, base), load_series(base))
    assert info.value.key == "sweep.walk_forward"
