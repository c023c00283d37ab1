"""LSTM direction model: causal features, walk-forward metrics, the strategy trades from it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from papertape.engine.feeds.loader import load_bars
from papertape.ml.lstm import (
    FEATURES,
    DirectionModel,
    feature_matrix,
    train_direction,
    walk_forward,
)
from papertape.ml.rl.setup import SizingSetup, date_ns, window
from papertape.plugins.sizers import FixedFraction
from tests.ml.conftest import SPX_FILE

TINY = {"lookback": 10, "horizon": 5, "hidden": 4, "epochs": 1}


def _spx() -> object:
    return window(load_bars(SPX_FILE, symbol="SPX"), date_ns("2008-01-01"), date_ns("2012-01-01"))


def test_no_feature_uses_a_future_bar() -> None:
    s = load_bars(SPX_FILE, symbol="SPX")
    full = feature_matrix(s.high, s.low, s.close, s.volume)
    cut = 300
    part = feature_matrix(s.high[:cut], s.low[:cut], s.close[:cut], s.volume[:cut])
    np.testing.assert_allclose(part, full[:cut], rtol=1e-5, atol=1e-5)
    assert full.shape == (len(s), len(FEATURES)) and np.abs(full[cut:]).sum() > 0


def test_walk_forward_reports_out_of_sample_metrics() -> None:
    m = walk_forward(_spx(), [2011], **TINY)  # type: ignore[arg-type]
    assert m["n"] > 200
    assert 0.0 <= m["accuracy"] <= 1.0 and 0.0 <= m["auc"] <= 1.0 and 0.0 <= m["brier"] <= 1.0


def test_the_strategy_trades_from_a_saved_model(tmp_path: Path) -> None:
    spx = _spx()
    model = train_direction(spx, date_ns("2011-01-01"), **TINY)  # type: ignore[arg-type]
    saved = model.save(tmp_path / "lstm", {"data": "test"})
    loaded = DirectionModel.load(saved)
    setup = SizingSetup(spx, "lstm_direction", {"model": str(saved), "enter": 0.5, "exit": 0.5})  # type: ignore[arg-type]
    engine = setup.build(FixedFraction(fraction=0.5))
    engine.run_sync()
    assert loaded.lookback == 10
    assert engine.slots[0].strategy.last_prob == engine.slots[0].strategy.last_prob  # not NaN


def test_train_lstm_cli_reports_oos_metrics_and_saves(tmp_path: Path, capsys: object) -> None:
    import json

    from papertape.engine.cli.main import main

    out = tmp_path / "lstm"
    argv = ["train", "lstm", "--data", str(SPX_FILE), "--test-years", "2003", "--epochs", "1"]
    argv += ["--lookback", "10", "--hidden", "4", "--train-end", "2003-12-31", "--json"]
    assert main([*argv, "--out", str(out)]) == 0
    got = json.loads(capsys.readouterr().out)  # type: ignore[attr-defined]
    assert 0.0 <= got["oos"]["auc"] <= 1.0 and got["lookback"] == 10
    assert (out / "v1" / "lstm.pt").is_file()
