"""Always flat: never trades (an arena baseline; its equity is the starting cash)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from papertape.engine.strategy import Strategy

if TYPE_CHECKING:
    from papertape.engine.portfolio import PortfolioView
    from papertape.engine.snapshot import Snapshot

__all__ = ["AlwaysFlat"]


class AlwaysFlat(Strategy):
    """Holds cash for the whole run: the zero-risk, zero-return yardstick of the arena."""

    name: ClassVar[str] = "always_flat"
    defaults: ClassVar[dict[str, Any]] = {}

    def on_bar(self, snap: Snapshot, portfolio: PortfolioView) -> None:
        """Never signal."""
        return None
