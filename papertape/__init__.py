"""papertape: a plugin-based paper-trading engine.

The names most user code needs are exported here::

    from papertape import Signal, Snapshot, Strategy, load_config, run_session

Subpackages: :mod:`papertape.engine` (the core), :mod:`papertape.plugins` (built-in plugins),
:mod:`papertape.strategies` (built-in strategies), :mod:`papertape.ml` (models and training).
"""

from papertape.engine import (
    ConfigError,
    DataError,
    Engine,
    EngineSettings,
    Fill,
    OrderType,
    PapertapeError,
    PluginError,
    Portfolio,
    PortfolioView,
    RunInfo,
    Signal,
    Sizer,
    SlotSpec,
    Snapshot,
    Strategy,
    StrategyContext,
    StrategyError,
    Target,
    TargetMemory,
    hookimpl,
)
from papertape.engine.config import RunConfig, load_config, parse_config
from papertape.engine.session import SessionResult, StrategyResult, run_session

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
    "RunConfig",
    "RunInfo",
    "SessionResult",
    "Signal",
    "Sizer",
    "SlotSpec",
    "Snapshot",
    "Strategy",
    "StrategyContext",
    "StrategyError",
    "StrategyResult",
    "Target",
    "TargetMemory",
    "hookimpl",
    "load_config",
    "parse_config",
    "run_session",
]
