"""Shared factories: hand-made bar series, a bare plugin manager, a one-call engine runner."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pluggy
import pytest

from papertape.engine import hookspecs
from papertape.engine.execution.account import Account
from papertape.engine.execution.fees import FeeSchedule
from papertape.engine.execution.simulator import ExecutionSimulator
from papertape.engine.execution.slippage import FixedSlippage
from papertape.engine.feeds.base import BarSeries
from papertape.engine.loop import Engine, EngineSettings, SlotSpec
from papertape.engine.strategy import Strategy
from papertape.plugins.sizers import FixedQuantity

DAY = 86_400 * 10**9
T0 = 1_600_000_000 * 10**9 // DAY * DAY  # a UTC midnight


def bars(
    rows: Sequence[tuple[float, float, float, float]],
    symbol: str = "X",
    step: int = DAY,
    t0: int = T0,
) -> BarSeries:
    """A series from (open, high, low, close) rows, one per ``step``."""
    a = np.array(rows, dtype=float)
    t = t0 + np.arange(len(rows), dtype=np.int64) * step
    return BarSeries.from_arrays(symbol, t, a[:, 0], a[:, 1], a[:, 2], a[:, 3], np.ones(len(rows)))


def flat_bars(closes: Sequence[float], symbol: str = "X", step: int = DAY) -> BarSeries:
    """Bars with open = previous close, high/low = max/min of open and close."""
    rows = []
    prev = closes[0]
    for c in closes:
        rows.append((prev, max(prev, c), min(prev, c), c))
        prev = c
    return bars(rows, symbol, step)


class Recorder:
    """A pluggy plugin collecting every event."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    @hookspecs.hookimpl
    def papertape_events(self, events: Sequence[Any]) -> None:
        self.events.extend(events)

    def kinds(self, kind: str) -> list[Any]:
        return [e for e in self.events if e.kind == kind]


class Script(Strategy):
    """Emits pre-planned signals: ``plan[bar_index] = Signal``."""

    name = "script"

    def __init__(self, plan: dict[int, Any]) -> None:
        super().__init__()
        self.plan = plan
        self.i = -1

    def on_bar(self, snap: Any, portfolio: Any) -> Any:
        self.i += 1
        return self.plan.get(self.i)


def make_engine(
    series: Sequence[BarSeries] | BarSeries,
    strategies: Sequence[tuple[str, Strategy]] | Strategy,
    *,
    sizer: Any = None,
    shields: Sequence[Any] = (),
    global_shields: Sequence[Any] = (),
    fees: FeeSchedule | None = None,
    slippage_bps: float = 0.0,
    fill_at: str = "next_open",
    cash: float = 10_000.0,
    max_errors: int = 3,
    plugins: Sequence[object] = (),
    account: str | Account = "cash",
) -> tuple[Engine, Recorder]:
    """An engine over ``series`` with a recorder attached (``account``: "cash" or "margin")."""
    if isinstance(series, BarSeries):
        series = [series]
    if isinstance(strategies, Strategy):
        strategies = [("s", strategies)]
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    rec = Recorder()
    pm.register(rec)
    for plugin in plugins:
        pm.register(plugin)
    slots = [
        SlotSpec(sid, st, sizer or FixedQuantity(qty=1.0), list(shields), None, cash)
        for sid, st in strategies
    ]
    acct = account if isinstance(account, Account) else Account(account)  # type: ignore[arg-type]
    sim = ExecutionSimulator(fees or FeeSchedule(), FixedSlippage(slippage_bps), fill_at, acct)  # type: ignore[arg-type]
    settings = EngineSettings(simulator=sim, max_strategy_errors=max_errors)
    return Engine(series, slots, pm, settings, global_shields=global_shields), rec


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()
