"""The prompt holds only data stamped at or before the decision time."""

from __future__ import annotations

import re
from types import MappingProxyType

import numpy as np

from papertape.engine.feeds.base import BarSeries
from papertape.engine.feeds.loader import load_bars
from papertape.engine.market import ReplayHistory
from papertape.engine.portfolio import Portfolio, PortfolioView
from papertape.engine.snapshot import Snapshot
from papertape.plugins.llm.prompt import (
    PERSONAS,
    ExitPlan,
    Outcome,
    PromptSettings,
    build_prompt,
    system_prompt,
)
from tests.plugins.llm.conftest import SP500

DAY = 86_400 * 10**9


def snapshot_at(series: BarSeries, k: int, **annotations: object) -> Snapshot:
    """The snapshot the engine builds when bar ``k - 1`` closes."""
    return Snapshot(
        int(series.time[k - 1]),
        series.symbol,
        float(series.close[k - 1]),
        (k,),
        (series.symbol,),
        (ReplayHistory(series),),
        0,
        False,
        MappingProxyType(dict(annotations)),
    )


def view(price: float, symbol: str = "SPX") -> PortfolioView:
    return PortfolioView(Portfolio("llm", 100_000.0), {symbol: price})


def altered_future(series: BarSeries, k: int) -> BarSeries:
    """The same bars up to ``k``, wildly different afterwards."""
    cols = {}
    for name in ("open", "high", "low", "close", "volume"):
        col = np.array(getattr(series, name), dtype=np.float64)
        col[k:] *= 3.7
        cols[name] = col
    return BarSeries.from_arrays(
        series.symbol,
        np.array(series.time),
        cols["open"],
        cols["high"],
        cols["low"],
        cols["close"],
        cols["volume"],
    )


def test_prompt_is_identical_whatever_the_future_holds() -> None:
    spx = load_bars(SP500, symbol="SPX")
    k = 1200
    other = altered_future(spx, k)
    settings = PromptSettings(candles=30)

    now = build_prompt(snapshot_at(spx, k), view(float(spx.close[k - 1])), settings)
    same_past = build_prompt(snapshot_at(other, k), view(float(other.close[k - 1])), settings)
    changed_last_bar = build_prompt(
        snapshot_at(altered_future(spx, k - 1), k), view(float(spx.close[k - 1])), settings
    )

    assert now.user == same_past.user
    assert now.sha256 == same_past.sha256
    assert changed_last_bar.user != now.user  # the check above could have failed
    assert now.data_time == int(spx.time[k - 1])


def test_every_date_in_the_prompt_is_at_or_before_the_decision() -> None:
    spx = load_bars(SP500, symbol="SPX")
    k = 700
    decision_day = str(np.datetime64(int(spx.time[k - 1]), "ns"))[:10]
    outcomes = [
        Outcome(
            "llm#1",
            "SPX",
            "long",
            int(spx.time[500]),
            int(spx.time[650]),
            1.0,
            1.1,
            10.0,
            0.1,
            "llm#2",
            "trend",
        ),
        Outcome(
            "llm#3",
            "SPX",
            "long",
            int(spx.time[660]),
            int(spx.time[900]),
            1.0,
            0.9,
            -10.0,
            -0.1,
            "stop_loss",
            "later trade, not known yet",
        ),
    ]

    prompt = build_prompt(
        snapshot_at(spx, k),
        view(float(spx.close[k - 1])),
        PromptSettings(reflect=5),
        outcomes=outcomes,
    )
    dates = re.findall(r"\d{4}-\d{2}-\d{2}", prompt.user)

    assert dates and max(dates) == decision_day
    assert "llm#1" in prompt.user
    assert "later trade" not in prompt.user and "llm#3" not in prompt.user


def test_portfolio_exit_plan_regime_and_persona_reach_the_prompt() -> None:
    spx = load_bars(SP500, symbol="SPX")
    k = 300
    price = float(spx.close[k - 1])
    pf = Portfolio("llm", 100_000.0)
    from papertape.engine.execution.orders import Fill, OrderRole, Side

    pf.apply(
        Fill(
            1,
            "llm",
            "SPX",
            Side.BUY,
            10.0,
            price,
            0.0,
            0.0,
            "taker",
            OrderRole.ENTRY,
            int(spx.time[k - 5]),
        ),
        1,
    )
    settings = PromptSettings(persona="conservative")

    prompt = build_prompt(
        snapshot_at(spx, k, regime="volatile"),
        PortfolioView(pf, {"SPX": price}),
        settings,
        plans={"SPX": ExitPlan("llm#4", price * 0.95, None)},
        opened_by={"SPX": "llm#4"},
    )

    assert "LONG 10 SPX" in prompt.user
    assert "opened by decision llm#4" in prompt.user
    assert "exit plan: stop" in prompt.user and "no target" in prompt.user
    assert "Market regime (annotated): volatile" in prompt.user
    assert prompt.system.startswith(PERSONAS["conservative"])
    custom = system_prompt(PromptSettings(system_prompt="Trade like a robot."))
    assert custom.startswith("Trade like a robot.") and '"action"' in custom
