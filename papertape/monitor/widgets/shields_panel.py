"""Shield states per trader (armed / reduce-only / halted / cooling down) with the reason."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from papertape.monitor.state import MonitorState

__all__ = ["ShieldsPanel"]

_STYLE = {"armed": "green", "reduce_only": "yellow", "halted": "bold red", "cooling_down": "cyan"}


class ShieldsPanel(Static):
    """One line per shield that has changed state; shields never tripped are armed."""

    def show(self, state: MonitorState, focus: str | None) -> None:
        """Redraw from a state."""
        text = Text()
        for owner, shields in state.shields.items():
            if focus is not None and owner not in (focus, "*"):
                continue
            for sh in shields.values():
                text.append(f"{owner} {sh.name}: ")
                text.append(sh.state.replace("_", "-"), style=_STYLE.get(sh.state, ""))
                text.append(f" — {sh.reason}\n", style="dim")
        if not text:
            text.append("all shields armed", style="green")
        self.update(text)
