"""The arena leaderboard: every contestant and baseline over the windows played so far."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from textual.widgets import DataTable

from papertape.arena.cells import num, pct

__all__ = ["ArenaBoard"]


COLUMNS = ("#", "trader", "kind", "return", "sharpe", "max dd", "trades", "verdict")


def _return(value: Any) -> str:
    return "—" if value is None else f"{float(value):+.2%}"


class ArenaBoard(DataTable[str]):
    """One row per trader of the arena, best pooled Sharpe first (hidden outside arenas).

    Figures as ``papertape arena`` prints them (:mod:`papertape.arena.cells`), the return
    signed; the columns exist from construction, so the board can be filled before it is
    mounted and shows the leaderboard on its first frame.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="none", **kwargs)
        self.add_columns(*COLUMNS)

    def show(self, rows: Sequence[Mapping[str, Any]], title: str) -> None:
        """Refill from the arena's leaderboard rows (``papertape arena --json`` rows)."""
        self.border_title = title
        self.clear()
        for rank, row in enumerate(rows, start=1):
            self.add_row(
                str(rank),
                str(row.get("trader", "?")),
                str(row.get("kind", "")),
                _return(row.get("total_return")),
                num(row.get("sharpe")),
                pct(row.get("max_drawdown"), 2),
                str(row.get("trades", "")),
                str(row.get("verdict") or ""),
            )
