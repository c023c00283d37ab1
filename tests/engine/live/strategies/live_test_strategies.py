"""Drop-in strategies for the live tests (loaded through ``plugins.strategy_dirs``)."""

from __future__ import annotations

from typing import Any, ClassVar

from papertape.engine.execution.orders import OrderType, Signal
from papertape.engine.strategy import Strategy


class DipBuyer(Strategy):
    """Bids a little under each close with a bracket: limit, partial and bracket fills."""

    name: ClassVar[str] = "dip_buyer"
    defaults: ClassVar[dict[str, Any]] = {"dip": 0.0005, "stop": 0.01, "target": 0.002}

    def on_bar(self, snap: Any, portfolio: Any) -> Signal | None:
        if portfolio.qty(snap.symbol) != 0.0:
            return None
        px = snap.price
        return Signal.long(
            "dip",
            order_type=OrderType.LIMIT,
            price=round(px * (1 - self.p.dip), 8),
            stop_loss=round(px * (1 - self.p.stop), 8),
            take_profit=round(px * (1 + self.p.target), 8),
        )


class Flipper(Strategy):
    """Long on even bars, flat on odd ones: a signal on every bar."""

    name: ClassVar[str] = "flipper"

    def on_bar(self, snap: Any, portfolio: Any) -> Signal:
        return Signal.long("even") if snap.bars() % 2 == 0 else Signal.flat("odd")
