"""The key help: every binding of the main screen, with what it does."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

__all__ = ["HelpScreen"]


class HelpScreen(ModalScreen[None]):
    """Lists the keys; any of escape, q or ? closes it."""

    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "close"),
    ]

    def __init__(self, bindings: list[Binding]) -> None:
        super().__init__()
        self._keys = bindings

    def compose(self) -> ComposeResult:
        """One line per key."""
        lines = ["[b]papertape monitor — keys[/b]", ""]
        for b in self._keys:
            lines.append(f"  [b]{b.key:<22}[/b] {b.description}")
        lines += ["", "escape closes this screen."]
        with VerticalScroll(id="help-body"):
            yield Static("\n".join(lines), id="help-text")
