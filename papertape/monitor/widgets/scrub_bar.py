"""The status line: live/paused/replaying, the scrubber's time and position, speed, filters."""

from __future__ import annotations

from textual.widgets import Static

from papertape.monitor.format import iso

__all__ = ["ScrubBar"]


class ScrubBar(Static):
    """Where the cursor is in the run, and how the view is filtered."""

    def show(
        self,
        *,
        mode: str,
        time: int,
        index: int,
        stops: int,
        speed: int,
        focus: str | None,
        kind: str | None,
        engine: str | None = None,
    ) -> None:
        """Redraw (``engine``: the engine's state, or ``read-only`` when not controlled)."""
        when = iso(time) if time else "-"
        if engine is None:
            pace = ""
        elif engine == "read-only":
            pace = "  [dim]read-only[/dim]"
        else:
            pace = f"  engine: {engine}"
        self.update(
            f"[b]{mode}[/b]  {when}  step {index + 1:,}/{stops:,}  speed ×{speed}{pace}"
            f"  trader: {focus or 'all'}  kind: {kind or 'all'}  (? for keys)"
        )
