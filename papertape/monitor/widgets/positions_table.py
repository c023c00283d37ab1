"""Open positions: trader, symbol, quantity, entry, mark, unrealised P&L, stop and target."""

from __future__ import annotations

from textual.widgets import DataTable

from papertape.monitor.format import money
from papertape.monitor.state import MonitorState

__all__ = ["PositionsTable"]


class PositionsTable(DataTable[str]):
    """One row per open position (of the focused trader when one is focused)."""

    def on_mount(self) -> None:
        """Set the columns."""
        self.cursor_type = "none"
        self.add_columns(
            "trader", "symbol", "qty", "entry", "mark", "unreal. P&L", "stop", "target"
        )

    def show(self, state: MonitorState, focus: str | None) -> None:
        """Refill from a state."""
        self.clear()
        for tr in state.traders.values():
            if focus is not None and tr.strategy != focus:
                continue
            for pos in tr.positions.values():
                mark = state.prices.get(pos.symbol)
                self.add_row(
                    tr.strategy,
                    pos.symbol,
                    f"{pos.qty:g}",
                    money(pos.entry_price),
                    money(mark),
                    money(pos.unrealised(mark)),
                    money(pos.stop_price),
                    money(pos.target_price),
                )
