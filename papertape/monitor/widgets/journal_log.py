"""The journal scrolling, filtered by trader and kind; a row's decision opens with Enter."""

from __future__ import annotations

from itertools import islice
from typing import Any

from textual.widgets import DataTable

from papertape.monitor.format import event_summary, iso
from papertape.monitor.state import MonitorState

__all__ = ["JournalLog"]

_ROWS = 300  # the newest matching events shown; the scrubber reaches older moments


def matches(ev: dict[str, Any], focus: str | None, kind: str | None) -> bool:
    """Whether an event passes the trader and kind filters (``shield`` matches shield_*)."""
    if focus is not None and ev.get("strategy") not in (None, focus, "*"):
        return False
    return kind is None or ev.get("kind", "").startswith(kind)


class JournalLog(DataTable[str]):
    """The newest journal events that pass the filters, oldest at the top."""

    def on_mount(self) -> None:
        """Set the columns."""
        self.cursor_type = "row"
        self.add_columns("seq", "time", "kind", "trader", "what")
        self._last: tuple[int, str | None, str | None] | None = None

    def show(self, state: MonitorState, focus: str | None, kind: str | None) -> None:
        """Refill from a state when it or the filters changed; keep the cursor at the end."""
        key = (state.seq, focus, kind)
        if key == self._last:
            return
        self._last = key
        newest = (ev for ev in reversed(state.journal) if matches(ev, focus, kind))
        rows = list(islice(newest, _ROWS))
        self.clear()
        for ev in reversed(rows):
            self.add_row(
                str(ev.get("seq", "")),
                iso(ev["time"]) if isinstance(ev.get("time"), int) else "",
                str(ev.get("kind", "")),
                str(ev.get("strategy", "")),
                event_summary(ev),
                key=str(ev.get("seq", "")),
            )
        if self.row_count:
            self.move_cursor(row=self.row_count - 1, animate=False)

    def selected_seq(self) -> int | None:
        """``seq`` of the event under the cursor, or None."""
        if not self.row_count:
            return None
        return int(self.get_row_at(self.cursor_row)[0])
