"""``papertape backtest --account``: the account model from the command line."""

from __future__ import annotations

import json

import pytest

from papertape.engine.cli.main import main


def test_backtest_account_flag_lets_a_strategy_short(capsys: pytest.CaptureFixture[str]) -> None:
    # sma_cross with allow_short: a cash account refuses every short, a margin account takes them.
    argv = [
        "backtest",
        "--data",
        "sp500_daily.csv",
        "--strategy",
        "sma_cross",
        "--param",
        "allow_short=true",
        "--no-journal",
        "--json",
    ]
    sides = {}
    for account in ("cash", "margin"):
        assert main([*argv, "--account", account]) == 0
        trades = json.loads(capsys.readouterr().out)["strategies"]["sma_cross"]["trade_list"]
        sides[account] = {t["side"] for t in trades}
    assert sides["cash"] == {"long"}
    assert sides["margin"] == {"long", "short"}
