"""Out-of-sample trading metrics of the LSTM strategy: through the engine, equal to `run`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from papertape.engine.feeds.loader import load_bars
from papertape.ml.lstm.evaluation import LstmEvaluation, evaluate_lstm
from papertape.ml.lstm.model import predict_window, train_direction, year_bounds
from papertape.ml.rl.setup import date_ns, window
from tests.ml.conftest import SPX_FILE

TINY = {"lookback": 10, "horizon": 5, "hidden": 4, "epochs": 1}


@pytest.fixture(scope="module")
def evaluation(tmp_path_factory: pytest.TempPathFactory) -> LstmEvaluation:
    spx = window(load_bars(SPX_FILE, symbol="SPX"), date_ns("2008-01-01"), date_ns("2012-01-01"))
    out = tmp_path_factory.mktemp("lstm-oos")
    # the tiny model's P(up) sits in a narrow band: enter/exit at its median make it trade
    # (training is seeded, so evaluate_lstm trains this very model again)
    start, end = year_bounds(2011)
    p, _ = predict_window(spx, train_direction(spx, start, **TINY), start, end)
    mid = float(np.median(p))
    return evaluate_lstm(spx, SPX_FILE, [2011], out, settings=TINY, enter=mid, exit_below=mid)


def _run_json(config: str, capsys: Any) -> dict[str, Any]:
    from papertape.engine.cli.main import main

    assert main(["run", config, "--json"]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_window_metrics_are_what_papertape_run_gives_for_the_saved_config(
    evaluation: LstmEvaluation, capsys: pytest.CaptureFixture[str]
) -> None:
    (config,) = evaluation.configs
    got = _run_json(config, capsys)["strategies"]
    assert set(got) == {"lstm", "buy_and_hold", "rule"}
    for w in evaluation.windows:
        ran = got[w.contender]
        assert w.sharpe == pytest.approx(ran["sharpe"], abs=1e-9)
        assert w.max_drawdown == pytest.approx(ran["max_drawdown"], abs=1e-12)
        assert w.cagr == pytest.approx(ran["cagr"], abs=1e-12)
        assert w.trades == ran["trades"]
        assert w.exposure == pytest.approx(ran["exposure"], abs=1e-12)
    lstm = next(w for w in evaluation.windows if w.contender == "lstm")
    assert lstm.trades > 0 and lstm.traded_notional > 0.0  # the model did trade
    # one year of daily bars, none of the warm-up bars
    assert 240 <= len(lstm.returns) <= 260


def test_turnover_comes_from_the_journals_fills(evaluation: LstmEvaluation) -> None:
    from papertape.engine.journal import read_journal

    hold = next(w for w in evaluation.windows if w.contender == "buy_and_hold")
    assert hold.journal is not None
    fills = [r for r in read_journal(hold.journal) if r["kind"] == "fill"]
    bought = sum(abs(r["qty"]) * r["price"] for r in fills if r["strategy"] == "buy_and_hold")
    assert hold.traded_notional == pytest.approx(bought) and bought > 90_000.0  # one entry
    assert hold.trades == 0  # still open at the end: marked, not a closed trade


def test_pooled_table_has_the_paired_test_against_each_baseline(
    evaluation: LstmEvaluation,
) -> None:
    rows = {r["contender"]: r for r in evaluation.pooled}
    assert list(rows) == ["lstm", "buy_and_hold", "rule"]
    assert "p_value" not in rows["lstm"]
    for name in ("buy_and_hold", "rule"):
        r = rows[name]
        assert 0.0 <= r["p_value"] <= 1.0 and r["ci"][0] <= r["ci"][1]
        assert r["lstm_minus_this_sharpe"] == pytest.approx(
            rows["lstm"]["sharpe"] - r["sharpe"], abs=0.02
        )
    assert rows["buy_and_hold"]["turnover"] == pytest.approx(1.0, abs=0.1)  # bought once
    assert rows["buy_and_hold"]["exposure"] > 0.95 and 0.0 < rows["lstm"]["exposure"] < 1.0
    d = evaluation.direction
    assert d["n"] > 200 and 0.0 <= d["auc"] <= 1.0


def test_evaluate_lstm_cli_prints_the_table(tmp_path: Path, capsys: Any) -> None:
    from papertape.engine.cli.main import main

    argv = ["evaluate", "lstm", "--data", str(SPX_FILE), "--test-years", "2003", "--json"]
    argv += ["--lookback", "10", "--hidden", "4", "--epochs", "1", "--out", str(tmp_path)]
    assert main(argv) == 0
    got = json.loads(capsys.readouterr().out)
    assert [r["contender"] for r in got["pooled"]] == ["lstm", "buy_and_hold", "rule"]
    assert (tmp_path / "configs" / "oos-2003.toml").is_file()
    assert (tmp_path / "models" / "lstm-2003" / "v1" / "lstm.pt").is_file()


def test_a_long_decided_in_the_warm_up_is_taken_when_the_window_opens(tmp_path: Path) -> None:
    # enter = exit = 0: the model says "long" on every bar, warm-up included; the engine drops
    # warm-up decisions, so the strategy must ask again once the window opens
    spx = window(load_bars(SPX_FILE, symbol="SPX"), date_ns("2008-01-01"), date_ns("2012-01-01"))
    ev = evaluate_lstm(spx, SPX_FILE, [2011], tmp_path, settings=TINY, enter=0.0, exit_below=0.0)
    lstm = next(w for w in ev.windows if w.contender == "lstm")
    hold = next(w for w in ev.windows if w.contender == "buy_and_hold")
    assert lstm.exposure == pytest.approx(hold.exposure) and lstm.exposure > 0.95
    np.testing.assert_allclose(lstm.returns, hold.returns, atol=1e-12)
