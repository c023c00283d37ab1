"""papertape's core engine: snapshots, the tick loop, execution, portfolios, risk and journals.

The names most user code needs are re-exported here::

    from papertape.engine import Signal, Snapshot, Strategy
"""

from papertape.engine.errors import (
    ConfigError,
    DataError,
    PapertapeError,
    PluginError,
    StrategyError,
)
from papertape.engine.execution.orders import Fill, OrderType, Signal, Target
from papertape.engine.hookspecs import hookimpl
from papertape.engine.loop import Engine, EngineSettings, RunInfo, SlotSpec
from papertape.engine.portfolio import Portfolio, PortfolioView
from papertape.engine.sizing import Sizer
from papertape.engine.snapshot import Snapshot
from papertape.engine.strategy import Strategy, StrategyContext, TargetMemory

__all__ = [
    "ConfigError",
    "DataError",
    "Engine",
    "EngineSettings",
    "Fill",
    "OrderType",
    "PapertapeError",
    "PluginError",
    "Portfolio",
    "PortfolioView",
    "RunInfo",
    "Signal",
    "Sizer",
    "SlotSpec",
    "Snapshot",
    "Strategy",
    "StrategyContext",
    "StrategyError",
    "Target",
    "TargetMemory",
    "hookimpl",
]
