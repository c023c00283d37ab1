"""Buy and hold: go long at the first bar it sees and keep the position (an arena baseline)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from papertape.engine.execution.orders import Signal
from papertape.engine.strategy import Strategy

if TYPE_CHECKING:
    from papertape.engine.portfolio import PortfolioView
    from papertape.engine.snapshot import Snapshot

__all__ = ["BuyAndHold"]


class BuyAndHold(Strategy):
    """Long every symbol from the first bar on, never sells.

    It asks for a long whenever it holds nothing, so it also enters after a shield released it
    or when a window starts with the position flat; a long while long is a no-op in the engine.
    The size is the sizer's (``fraction`` by default).
    """

    name: ClassVar[str] = "buy_and_hold"
    defaults: ClassVar[dict[str, Any]] = {}

    def on_bar(self, snap: Snapshot, portfolio: PortfolioView) -> Signal | None:
        """Signal a long while flat in this symbol."""
        if portfolio.qty(snap.symbol) == 0.0:
            return Signal.long("buy and hold")
        return None
