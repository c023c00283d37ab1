"""A tick's lines encoded in one loop are byte for byte the event-by-event lines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from papertape.engine.events import Event, OrderFilled, RunFinished, SignalEmitted
from papertape.engine.journal.jsonl import encode_event, encode_events


@dataclass(frozen=True, slots=True)
class _Recorded(Event):
    kind: ClassVar[str] = "test_recorded"
    note: str

    def record(self) -> dict[str, Any]:
        return {"kind": self.kind, "time": self.time, "note": self.note.upper()}


def test_batch_lines_equal_single_lines() -> None:
    # Arrange: plain events twice (cached prefix), a record() override, a numpy scalar,
    # a non-finite float, an int orjson refuses (falls back to the json module)
    events: list[Event] = [
        SignalEmitted(1, "s", "X", "long", "market", None, None, None, 1.5, "r", "X"),
        OrderFilled(2, "s", 1, "X", 1, 1.0, 100.0, 0.1, 0.0, "taker", "entry", 9.0, 1.0),
        OrderFilled(3, "s", 2, "X", -1, 1.0, float("nan"), 0.1, 0.0, "taker", "exit", 9.0, 0.0),
        _Recorded(4, "why"),
        RunFinished(5, 7, {"s": {"final_equity": np.float64(1.25), "big": 2**70}}),
    ]

    # Act
    batch = encode_events(events, 40)
    single = [encode_event(e, 40 + i) for i, e in enumerate(events)]

    # Assert
    assert batch == single
    assert batch[0].startswith(b'{"kind":"signal","seq":40,')
    assert b'"note":"WHY"' in batch[3]
    assert b'"big":1180591620717411303424' in batch[4]
