"""The sizer contract: turn a signal into an absolute target quantity."""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, ClassVar

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

    def __init__(self, **params: Any) -> None:
        self.p = SimpleNamespace(
            **resolve_params(
                f"sizer {self.name!r}", self.defaults, params, "sizer", non_negative=True
            )
        )

    def size(self, signal: Signal, snap: Snapshot, portfolio: PortfolioView, price: float) -> float:
        """Return the absolute target quantity for ``signal`` at reference ``price``."""
        raise NotImplementedError
