"""The PostgreSQL backend (asyncpg): journal mirror, market history, run summaries.

Chosen in the config by the name of the environment variable that holds the DSN::

    [postgres]
    dsn_env = "PAPERTAPE_DSN"   # export PAPERTAPE_DSN=postgresql://user:pw@host/db
    journal = true              # mirror every run's journal into papertape.journal_events
    buffer = 100000             # events held in memory while the database is away

    [[data]]
    source = "postgres"         # bars from papertape.candles (see `papertape data import`)
    symbol = "SPX"
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from papertape.engine.journal.postgres.candles import (
    SymbolRange,
    import_bars,
    list_symbols,
    load_bars_pg,
)
from papertape.engine.journal.postgres.connection import DEFAULT_DSN_ENV, dsn_from_env, mask_dsn
from papertape.engine.journal.postgres.mirror import PostgresMirror

if TYPE_CHECKING:
    from papertape.engine.config import RunConfig
    from papertape.engine.feeds.base import BarSeries

__all__ = [
    "DEFAULT_DSN_ENV",
    "PostgresMirror",
    "SymbolRange",
    "config_dsn",
    "dsn_from_env",
    "import_bars",
    "list_symbols",
    "load_bars_pg",
    "load_feed",
    "mask_dsn",
]


def config_dsn(config: RunConfig) -> str:
    """The DSN a config points at (``[postgres] dsn_env``; ``PAPERTAPE_DSN`` by default).

    Raises:
        ConfigError: The environment variable is unset or empty.
    """
    var = config.postgres.dsn_env if config.postgres is not None else DEFAULT_DSN_ENV
    return dsn_from_env(var)


def load_feed(config: RunConfig, i: int) -> BarSeries:
    """Bars of ``config.data[i]`` (``source = "postgres"``), resampled to its ``timeframe``.

    Raises:
        ConfigError: No DSN in the environment.
        DataError: The database cannot be read or holds no such symbol.
    """
    from papertape.engine.errors import ConfigError, DataError
    from papertape.engine.feeds.trades import parse_timeframe, resample_bars

    feed = config.data[i]
    if not feed.symbol:
        raise ConfigError(f"data.{i}.symbol", None, "a postgres data source needs a symbol")
    series = load_bars_pg(config_dsn(config), feed.symbol)
    if feed.timeframe is None:
        return series
    step = parse_timeframe(feed.timeframe)
    if step < series.interval_ns:
        raise DataError(
            f"postgres:{feed.symbol}: cannot resample bars spaced "
            f"{series.interval_ns // 10**9}s into finer {feed.timeframe!r} bars"
        )
    return resample_bars(series, step)
