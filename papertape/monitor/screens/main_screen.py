"""The dashboard: equity, leaderboard, positions, market/regime/feed, shields, journal."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header

from papertape.monitor.state import MonitorState
from papertape.monitor.widgets import (
    ArenaBoard,
    EquityPlot,
    JournalLog,
    Leaderboard,
    MarketPanel,
    PositionsTable,
    ScrubBar,
    ShieldsPanel,
)

__all__ = ["MainScreen"]


class MainScreen(Screen[None]):
    """Every panel, redrawn from one :class:`MonitorState` at a time."""

    def compose(self) -> ComposeResult:
        """Lay out the panels (sizes in monitor.tcss)."""
        yield Header(show_clock=False)
        yield ScrubBar(id="scrub")
        with Horizontal(id="top"):
            yield EquityPlot(id="equity")
            with Vertical(id="side"):
                yield Leaderboard(id="leaderboard")
                yield MarketPanel(id="market")
                yield ShieldsPanel(id="shields")
        yield PositionsTable(id="positions")
        yield JournalLog(id="journal")
        yield Footer()

    def arena_board(self) -> ArenaBoard:
        """The arena leaderboard, mounted under the status line on first use (arenas only).

        A board mounted now can be filled at once: it shows on the same frame.
        """
        boards = self.query(ArenaBoard)
        if boards:
            return boards.first()
        board = ArenaBoard(id="arena")
        self.mount(board, after=self.query_one(ScrubBar))
        return board

    def show(self, state: MonitorState, focus: str | None, kind: str | None, start: int) -> None:
        """Redraw every panel from ``state``."""
        self.query_one(EquityPlot).show(state, focus, start)
        self.query_one(Leaderboard).show(state, focus)
        self.query_one(MarketPanel).show(state)
        self.query_one(ShieldsPanel).show(state, focus)
        self.query_one(PositionsTable).show(state, focus)
        self.query_one(JournalLog).show(state, focus, kind)
