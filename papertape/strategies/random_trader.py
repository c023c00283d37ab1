"""A seeded random trader on an LLM trader's decision schedule (an arena baseline).

It decides exactly when an ``llm_trader`` with the same ``every`` and ``warmup`` would (every
``every`` bars of a symbol once ``warmup`` bars exist) and draws BUY, SELL (close the long, or
open a short with ``allow_short``) or HOLD with the given probabilities from a generator seeded
with ``seed``. A model that cannot beat it has shown no skill at choosing *when* to trade.
Like the LLM trader, which asks no model about a bar of the run's warm-up, it draws nothing
before ``ctx.trade_from``: its draws (and its counts) are those of the window.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from papertape.engine.errors import ConfigError
from papertape.engine.execution.orders import Signal
from papertape.engine.strategy import Strategy, StrategyContext

if TYPE_CHECKING:
    from papertape.engine.portfolio import PortfolioView
    from papertape.engine.snapshot import Snapshot

__all__ = ["RandomTrader"]


class RandomTrader(Strategy):
    """Random BUY / SELL / HOLD on a fixed schedule, reproducible from its seed.

    Parameters: ``every`` and ``warmup`` (the LLM trader's schedule), ``seed``,
    ``p_buy`` and ``p_sell`` (HOLD takes the rest), ``allow_short``.
    """

    name: ClassVar[str] = "random_trader"
    defaults: ClassVar[dict[str, Any]] = {
        "every": 20,
        "warmup": 50,
        "seed": 0,
        "p_buy": 0.4,
        "p_sell": 0.3,
        "allow_short": False,
    }

    def validate(self) -> None:
        """Positive schedule, probabilities that sum to at most one."""
        p = self.p
        if p.every < 1:
            raise ConfigError("params.every", p.every, "must be >= 1")
        if p.warmup < 0:
            raise ConfigError("params.warmup", p.warmup, "must be >= 0")
        for key in ("p_buy", "p_sell"):
            if not 0.0 <= getattr(p, key) <= 1.0:
                raise ConfigError(f"params.{key}", getattr(p, key), "must be in [0, 1]")
        if p.p_buy + p.p_sell > 1.0:
            raise ConfigError("params.p_sell", p.p_sell, "p_buy + p_sell must be <= 1")

    def on_start(self, ctx: StrategyContext) -> None:
        """A fresh generator: the same seed gives the same draws."""
        self._rng = np.random.default_rng(int(self.p.seed))
        self._trade_from: int | None = getattr(ctx, "trade_from", None)
        self.decisions: dict[str, int] = {"BUY": 0, "SELL": 0, "HOLD": 0}

    def on_bar(self, snap: Snapshot, portfolio: PortfolioView) -> Signal | None:
        """Draw an action on the decision bars of the schedule."""
        if self._trade_from is not None and snap.time < self._trade_from:
            return None  # warm-up: the engine would drop the decision; draw nothing
        bars = snap.bars()
        if bars < self.p.warmup or (bars - self.p.warmup) % self.p.every:
            return None
        u = float(self._rng.random())
        if u < self.p.p_buy:
            self.decisions["BUY"] += 1
            return Signal.long(f"random draw {u:.3f}: BUY")
        if u < self.p.p_buy + self.p.p_sell:
            self.decisions["SELL"] += 1
            if self.p.allow_short:
                return Signal.short(f"random draw {u:.3f}: SELL")
            return Signal.flat(f"random draw {u:.3f}: SELL")
        self.decisions["HOLD"] += 1
        return None

    def stats(self) -> dict[str, Any]:
        """How often each action was drawn."""
        return {"actions": dict(getattr(self, "decisions", {}))}
