"""Walk-forward comparison of the RL sizer with fixed rules, and the CLI, on tiny data."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from papertape.engine.cli.main import main
from papertape.engine.feeds.loader import load_bars
from papertape.ml.registry import read_metadata, resolve_version
from papertape.ml.rl.evaluation import FIXED_RULES, compare_sizers
from papertape.ml.rl.setup import SizingSetup, date_ns, window
from papertape.ml.rl.training import PPOSettings
from tests.ml.conftest import SPX_FILE

TINY = PPOSettings(timesteps=128, n_steps=64, batch_size=32, n_epochs=1, hidden=8)


def test_walk_forward_trains_before_the_test_year_and_tests_every_rule(tmp_path: Path) -> None:
    spx = window(load_bars(SPX_FILE, symbol="SPX"), date_ns("2010-01-01"), date_ns("2014-01-01"))
    base = SizingSetup(spx, "sma_cross", {"fast": 3, "slow": 8})
    result = compare_sizers(spx, base, [2013], [5], TINY, models_dir=tmp_path)

    names = [c.name for c in result.contenders]
    assert names == [*FIXED_RULES, "rl_seed5"]
    fixed = {c.name: c for c in result.contenders if c.name in FIXED_RULES}
    assert result.best_fixed == max(fixed, key=lambda n: fixed[n].sharpe)
    for c in result.contenders:
        # one return per trading day of 2013, nothing from the warm-up
        assert len(c.returns) == int(np.sum(spx.time >= date_ns("2013-01-01")))
        assert all(math.isfinite(v) for v in (c.sharpe, c.max_drawdown, c.cagr, c.turnover))
    (rl,) = [c for c in result.contenders if c.name == "rl_seed5"]
    assert rl.p_value is not None and 0.0 <= rl.p_value <= 1.0
    meta = read_metadata(resolve_version(tmp_path / "rl-2013-seed5"))
    assert meta["data"]["last"] < "2013-01-01"  # trained only on bars before the test year
    assert result.rows()[-1]["sizer"] == "rl_seed5"


def test_train_sizer_cli_writes_a_version_and_prints_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "rl-spx"
    code = main(
        [
            "train",
            "sizer",
            "--data",
            str(SPX_FILE),
            "--param",
            "fast=3",
            "--param",
            "slow=8",
            "--train-end",
            "2003-12-31",
            "--timesteps",
            "64",
            "--json",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    (meta,) = json.loads(capsys.readouterr().out)
    assert meta["data"]["last"].startswith("2003-12-31")
    assert (out / "v1" / "policy.zip").is_file()
