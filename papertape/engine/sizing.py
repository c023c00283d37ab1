"""The sizer contract: turn a signal into an absolute target quantity."""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, ClassVar

from papertape.engine.errors import ConfigError
from papertape.engine.execution.account import round_to_lot
from papertape.engine.params import resolve_params

if TYPE_CHECKING:
    from papertape.engine.execution.orders import Signal
    from papertape.engine.portfolio import PortfolioView
    from papertape.engine.snapshot import Snapshot

__all__ = ["Sizer"]


class Sizer:
    """Base class of position sizers.

    ``size`` returns the absolute quantity (>= 0) the position should have for a LONG or SHORT
    signal; the engine applies the sign and trades the difference to the current position.
    A sizer sees the snapshot of the decision and the strategy's portfolio, nothing later.
    """

    name: ClassVar[str] = ""
    defaults: ClassVar[dict[str, Any]] = {}
    lot_size: float = 0.0  # 0: fractional units

    def __init__(self, **params: Any) -> None:
        lot = params.pop("lot_size", 0.0)
        if isinstance(lot, bool) or not isinstance(lot, int | float) or not lot >= 0.0:
            raise ConfigError("sizer.lot_size", lot, "must be a number >= 0 (0: no lots)")
        if not math.isfinite(lot):
            raise ConfigError("sizer.lot_size", lot, "must be finite")
        self.lot_size = float(lot)
        self.p = SimpleNamespace(
            **resolve_params(
                f"sizer {self.name!r}", self.defaults, params, "sizer", non_negative=True
            )
        )

    def target(
        self, signal: Signal, snap: Snapshot, portfolio: PortfolioView, price: float
    ) -> float:
        """:meth:`size`, rounded down to a whole number of ``lot_size`` lots when one is set.

        Every sizer takes the optional ``lot_size`` parameter (e.g. ``lot_size = 1`` for whole
        shares, ``100`` for round lots); without it quantities are fractional units.
        """
        qty = self.size(signal, snap, portfolio, price)
        lot = self.lot_size
        if lot > 0.0 and qty > 0.0 and math.isfinite(qty):
            return round_to_lot(qty, lot)
        return qty

    def size(self, signal: Signal, snap: Snapshot, portfolio: PortfolioView, price: float) -> float:
        """Return the absolute target quantity for ``signal`` at reference ``price``."""
        raise NotImplementedError
