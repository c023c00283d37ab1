"""The monitor's panels, one widget per module."""

from papertape.monitor.widgets.arena_board import ArenaBoard
from papertape.monitor.widgets.equity_plot import EquityPlot
from papertape.monitor.widgets.journal_log import JournalLog
from papertape.monitor.widgets.leaderboard import Leaderboard
from papertape.monitor.widgets.market_panel import MarketPanel
from papertape.monitor.widgets.positions_table import PositionsTable
from papertape.monitor.widgets.scrub_bar import ScrubBar
from papertape.monitor.widgets.shields_panel import ShieldsPanel

__all__ = [
    "ArenaBoard",
    "EquityPlot",
    "JournalLog",
    "Leaderboard",
    "MarketPanel",
    "PositionsTable",
    "ScrubBar",
    "ShieldsPanel",
]
