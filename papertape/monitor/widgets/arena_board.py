"""The arena leaderboard: every contestant and baseline over the windows played so far."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from textual.widgets import DataTable

__all__ = ["ArenaBoard"]


def _pct(value: Any) -> str:
    return "-" if value is None else f"{float(value):+.2%}"


def _num(value: Any) -> str:
    return "-" if value is None else f"{float(value):.2f}"


class ArenaBoard(DataTable[str]):
    """One row per trader of the arena, best pooled Sharpe first (hidden outside arenas)."""

    def on_mount(self) -> None:
        """Set the columns."""
        self.cursor_type = "none"
        self.add_columns("#", "trader", "kind", "return", "sharpe", "max dd", "trades", "verdict")

    def show(self, rows: Sequence[Mapping[str, Any]], title: str) -> None:
        """Refill from the arena's leaderboard rows (``papertape arena --json`` rows)."""
        self.border_title = title
        self.clear()
        for rank, row in enumerate(rows, start=1):
            self.add_row(
                str(rank),
                str(row.get("trader", "?")),
                str(row.get("kind", "")),
                _pct(row.get("total_return")),
                _num(row.get("sharpe")),
                _pct(row.get("max_drawdown")),
                str(row.get("trades", "")),
                str(row.get("verdict") or ""),
            )
