"""The monitor's screens: the main dashboard, a decision's detail, the key help."""

from papertape.monitor.screens.decision_screen import DecisionScreen
from papertape.monitor.screens.help_screen import HelpScreen
from papertape.monitor.screens.main_screen import MainScreen

__all__ = ["DecisionScreen", "HelpScreen", "MainScreen"]
