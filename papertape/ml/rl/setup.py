"""The market a sizing policy is trained and judged in: data window, strategy, costs.

One :class:`SizingSetup` builds engines for the environment (any sizer) and for the fixed
sizing rules it is compared with, so every contender sees the same signals and the same costs.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pluggy

from papertape.engine import hookspecs
from papertape.engine.errors import ConfigError
from papertape.engine.execution.account import Account
from papertape.engine.execution.fees import FeeSchedule
from papertape.engine.execution.simulator import ExecutionSimulator
from papertape.engine.execution.slippage import FixedSlippage
from papertape.engine.feeds.base import BarSeries
from papertape.engine.loop import Engine
from papertape.engine.pipeline.state import EngineSettings, SlotSpec
from papertape.engine.registry import build_catalog, make_plugin_manager

if TYPE_CHECKING:
    from papertape.engine.sizing import Sizer
    from papertape.engine.strategy import Strategy

__all__ = ["SLOT", "SizingSetup", "date_ns", "strategy_class", "window"]

SLOT = "sized"
DAY_NS = 86_400 * 10**9


def date_ns(text: str) -> int:
    """``YYYY-MM-DD`` (or an ISO time) as UTC nanoseconds.

    Raises:
        ConfigError: The text is not a date.
    """
    try:
        return int(np.datetime64(text, "ns").astype(np.int64))
    except ValueError as exc:
        raise ConfigError("date", text, "must be a date like 2015-12-31") from exc


def window(series: BarSeries, first: int | None = None, end: int | None = None) -> BarSeries:
    """The bars opening in ``[first, end)`` (either bound open when None)."""
    mask = np.ones(len(series), dtype=bool)
    if first is not None:
        mask &= series.time >= first
    if end is not None:
        mask &= series.time < end
    return BarSeries.from_arrays(
        series.symbol,
        series.time[mask],
        series.open[mask],
        series.high[mask],
        series.low[mask],
        series.close[mask],
        series.volume[mask],
        series.source,
    )


@functools.lru_cache(maxsize=32)
def strategy_class(name: str, strategy_dirs: tuple[str, ...]) -> type[Strategy]:
    """Look a strategy up once (loading drop-in folders again would register them twice)."""
    pm, broken = make_plugin_manager(strategy_dirs, entry_points=False)
    return build_catalog(pm, broken).strategy(name)


@dataclass(frozen=True, slots=True)
class SizingSetup:
    """A strategy on one series under fixed costs; builds an engine around any sizer.

    Attributes:
        series: The bars (already cut to the window wanted).
        strategy: Strategy name in the catalog (built-ins, ``strategies/``, entry points).
        params: The strategy's parameters.
        fee_bps: Taker fee in basis points.
        slippage_bps: Fixed slippage in basis points.
        cash: Initial cash.
        trade_from: Moments before this time (ns) only warm the strategy up (no trading).
        strategy_dirs: Extra folders of drop-in strategies (./strategies is always read).
    """

    series: BarSeries
    strategy: str = "sma_cross"
    params: dict[str, Any] = field(default_factory=dict)
    fee_bps: float = 1.0
    slippage_bps: float = 2.0
    cash: float = 100_000.0
    trade_from: int | None = None
    strategy_dirs: tuple[str, ...] = ()

    def build(self, sizer: Sizer) -> Engine:
        """A fresh engine: this strategy sized by ``sizer``, in slot :data:`SLOT`."""
        strategy = strategy_class(self.strategy, self.strategy_dirs)(**self.params)
        pm = pluggy.PluginManager(hookspecs.PROJECT)  # no journal, no annotators: speed
        pm.add_hookspecs(hookspecs)
        sim = ExecutionSimulator(
            FeeSchedule(maker_bps=self.fee_bps, taker_bps=self.fee_bps),
            FixedSlippage(self.slippage_bps),
            "next_open",
            Account("cash"),
        )
        settings = EngineSettings(simulator=sim, trade_from=self.trade_from)
        slot = SlotSpec(SLOT, strategy, sizer, (), None, self.cash)
        return Engine([self.series], [slot], pm, settings)

    def describe(self) -> dict[str, Any]:
        """JSON-ready facts for model metadata."""
        s = self.series
        return {
            "symbol": s.symbol,
            "source": s.source,
            "first": str(np.datetime64(int(s.time[0]), "ns")) if len(s) else None,
            "last": str(np.datetime64(int(s.time[-1]), "ns")) if len(s) else None,
            "rows": len(s),
            "strategy": self.strategy,
            "params": dict(self.params),
            "fee_bps": self.fee_bps,
            "slippage_bps": self.slippage_bps,
            "cash": self.cash,
        }
