"""``[account]`` and ``[metrics]`` config keys reach the engine and the results."""

from __future__ import annotations

import math
import tomllib

import pytest

from papertape.engine.config import RunConfig
from papertape.engine.config import parse_config as parse_mapping
from papertape.engine.errors import ConfigError
from papertape.engine.session import build_engine, run_session
from tests.conftest import bars

BASE = """
[run]
name = "acct"
initial_cash = 10000
[[data]]
path = "unused.csv"
[[strategies]]
name = "sma_cross"
params = {fast = 2, slow = 3, allow_short = true}
sizer = {name = "fraction", fraction = 1.0}
[journal]
enabled = false
"""

# closes that cross down, then up, then down: sma_cross(2, 3) goes short on a cash account
CLOSES = [10.0, 11.0, 12.0, 13.0, 11.0, 9.0, 8.0, 10.0, 13.0, 15.0, 12.0, 9.0, 7.0, 6.0]


def parse_config(text: str) -> RunConfig:
    return parse_mapping(tomllib.loads(text))


def _series():  # type: ignore[no-untyped-def]
    rows = []
    prev = CLOSES[0]
    for c in CLOSES:
        rows.append((prev, max(prev, c), min(prev, c), c))
        prev = c
    return [bars(rows)]


def test_default_account_is_cash_and_refuses_shorts() -> None:
    cfg = parse_config(BASE)
    engine, _ = build_engine(cfg, _series(), journal=False)
    assert (engine.sim.account.type, engine.settings.risk_free) == ("cash", 0.0)
    engine.run_sync()
    assert all(p.qty > 0 for p in engine.slots[0].portfolio.positions.values())
    assert engine.event_counts.get("veto", 0) > 0  # the short halves were refused


def test_margin_account_from_config_shorts() -> None:
    cfg = parse_config(BASE + '[account]\ntype = "margin"\nmax_leverage = 1.5\n')
    engine, _ = build_engine(cfg, _series(), journal=False)
    assert (engine.sim.account.type, engine.sim.account.max_leverage) == ("margin", 1.5)
    engine.run_sync()
    assert any(tr.side < 0 for tr in engine.slots[0].portfolio.trades)


def test_risk_free_rate_lowers_sharpe_by_the_per_bar_rate() -> None:
    plain = run_session(parse_config(BASE), _series(), journal=False)
    rf = run_session(parse_config(BASE + "[metrics]\nrisk_free = 0.5\n"), _series(), journal=False)
    a, b = plain.strategies["sma_cross"].metrics, rf.strategies["sma_cross"].metrics
    assert a.final_equity == b.final_equity and a.volatility == b.volatility
    # Sharpe = mean(r - rf_bar) / std(r) * sqrt(ppy): the difference is rf_bar / std(r) * sqrt(ppy)
    rf_bar = 1.5 ** (1 / a.periods_per_year) - 1
    std = a.volatility / math.sqrt(a.periods_per_year)
    assert a.sharpe - b.sharpe == pytest.approx(rf_bar / std * math.sqrt(a.periods_per_year))


@pytest.mark.parametrize(
    "extra",
    [
        '[account]\ntype = "credit"\n',
        "[account]\nmax_leverage = 0\n",
        "[metrics]\nrisk_free = -2\n",
    ],
)
def test_bad_account_and_metrics_keys_are_config_errors(extra: str) -> None:
    with pytest.raises(ConfigError):
        parse_config(BASE + extra)
