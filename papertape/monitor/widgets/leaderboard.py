"""The leaderboard: traders by equity, with return, drawdown, trades and fees."""

from __future__ import annotations

from textual.widgets import DataTable

from papertape.monitor.format import money
from papertape.monitor.state import MonitorState

__all__ = ["Leaderboard"]


class Leaderboard(DataTable[str]):
    """One row per trader, best equity first; the focused trader is marked."""

    def on_mount(self) -> None:
        """Set the columns."""
        self.cursor_type = "none"
        self.add_columns("#", "trader", "equity", "return", "drawdown", "trades", "fees")

    def show(self, state: MonitorState, focus: str | None) -> None:
        """Refill from a state."""
        self.clear()
        for rank, tr in enumerate(state.leaderboard(), start=1):
            mark = "▶ " if tr.strategy == focus else ""
            self.add_row(
                str(rank),
                mark + tr.strategy,
                money(tr.equity),
                f"{tr.total_return:+.2%}",
                f"{tr.drawdown:.2%}",
                str(tr.trades),
                money(tr.fees),
            )
