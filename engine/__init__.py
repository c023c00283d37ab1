"""papertape's core engine: snapshots, the tick loop, execution, portfolios, risk and journals.

The names most user code needs are re-exported here::

    from engine import Signal, Snapshot, Strategy
"""

from engine.errors import (
    ConfigError,
    DataError,
    PapertapeError,
    PluginError,
    StrategyError,
)
from engine.execution.orders import Fill, OrderType, Signal, Target
from engine.hookspecs import hookimpl
from engine.loop import Engine, EngineSettings, RunInfo, SlotSpec
from engine.portfolio import Portfolio, PortfolioView
from engine.sizing import Sizer
from engine.snapshot import Snapshot
from engine.strategy import Strategy, StrategyContext, TargetMemory

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
