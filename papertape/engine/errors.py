"""The one exception tree of papertape.

Every error the engine raises on purpose derives from :class:`PapertapeError`. Lower-level
errors (numpy, pyarrow, websockets, asyncpg, torch, provider SDKs) are translated at the
boundary where they occur, so callers only ever catch these::

    PapertapeError
    ├── ConfigError            a config file or CLI option is invalid (names the key and value)
    ├── DataError              market data cannot be read or is unusable
    │   └── DataFileNotFound   the named data file does not exist
    ├── PluginError            a plugin cannot be found, loaded or registered
    │   ├── UnknownStrategy    no strategy is registered under the requested name
    │   └── UnknownParameter   a strategy/sizer/shield was given a parameter it does not take
    ├── StrategyError          user strategy code raised (wraps the original exception)
    │   └── StrategyTimeout    a strategy call ran past its time budget
    ├── ExecutionError         an order is malformed or cannot be simulated
    ├── SnapshotError          a snapshot was used outside its validity (e.g. overwritten window)
    ├── FeedError              a live feed failed (connection, protocol)
    ├── JournalError           the journal cannot be written or read
    ├── RunInterrupted         Ctrl-C stopped a replay at a step boundary (resumable)
    └── ModelError             an ML model or LLM provider failed
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DataError",
    "DataFileNotFound",
    "ExecutionError",
    "FeedError",
    "JournalError",
    "ModelError",
    "PapertapeError",
    "PluginError",
    "RunInterrupted",
    "SnapshotError",
    "StrategyError",
    "StrategyTimeout",
    "UnknownParameter",
    "UnknownStrategy",
]


class PapertapeError(Exception):
    """Base class of every error papertape raises on purpose."""


class ConfigError(PapertapeError):
    """A config value is invalid.

    Args:
        key: Dotted path of the offending key (``strategies.0.params.fast``).
        value: The value that was rejected.
        reason: Why it was rejected.
    """

    def __init__(self, key: str, value: object, reason: str) -> None:
        self.key = key
        self.value = value
        self.reason = reason
        super().__init__(f"{key} = {value!r}: {reason}")


class DataError(PapertapeError):
    """Market data cannot be read or is unusable."""


class DataFileNotFound(DataError):
    """The named data file does not exist."""


class PluginError(PapertapeError):
    """A plugin cannot be found, loaded or registered."""


class UnknownStrategy(PluginError):
    """No strategy is registered under the requested name."""


class UnknownParameter(PluginError):
    """A plugin was given a parameter it does not accept."""


class StrategyError(PapertapeError):
    """User strategy code raised; the original exception is ``__cause__``."""


class StrategyTimeout(StrategyError):
    """A strategy call ran past its time budget (raised inside the strategy, then contained)."""


class RunInterrupted(PapertapeError):
    """Ctrl-C stopped a replay at the end of a step; its journal can be resumed.

    Args:
        message: What was done and how to continue.
        step: Steps completed.
        time: Market time (ns) of the last completed step.
    """

    def __init__(
        self, message: str, step: int = 0, time: int = 0, run_dir: str | None = None
    ) -> None:
        self.step = step
        self.time = time
        self.run_dir = run_dir  # the journal folder to resume (None: no journal)
        super().__init__(message)


class ExecutionError(PapertapeError):
    """An order is malformed or cannot be simulated."""


class SnapshotError(PapertapeError):
    """A snapshot was used outside its validity."""


class FeedError(PapertapeError):
    """A live market-data feed failed."""


class JournalError(PapertapeError):
    """The journal cannot be written or read."""


class ModelError(PapertapeError):
    """An ML model or LLM provider failed."""
