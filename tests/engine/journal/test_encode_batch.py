"""A tick's lines encoded in one loop (or one orjson call) are byte for byte the single lines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from papertape.engine.events import (
    DataRejected,
    Event,
    OrderFilled,
    OrderSubmitted,
    OrderVetoed,
    RunFinished,
    SignalEmitted,
    TradeClosed,
)
from papertape.engine.journal.jsonl import encode_event, encode_events, encode_tick


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


def _joined(events: list[Event], seq: int) -> bytes:
    return b"".join(line + b"\n" for line in encode_events(events, seq))


def test_tick_bytes_equal_single_lines_for_every_event_kind() -> None:
    # Arrange: one event of each kind the loop emits on the hot path, several ticks shapes
    fill = OrderFilled(2, "s", 1, "X", 1, 1.0, 100.0, 0.1, 0.0, "taker", "entry", 9.0, 1.0)
    trade = TradeClosed(2, "s", "X", 1, 1.0, 1, 99.5, 100.25, -0.5, 0.25, 3)
    signal = SignalEmitted(3, "s", "X", "long", "market", None, None, None, None, "", "X")
    order = OrderSubmitted(3, "s", 2, "X", -1, 2.0, "market", "entry", None, None, None)
    veto = OrderVetoed(3, "s", "X", 1, 2.0, 0.0, "max_drawdown", "halted")
    ticks: list[list[Event]] = [[signal, order], [fill, trade, signal, order], [veto], [fill]]

    for i, tick in enumerate(ticks):
        # Act
        data = encode_tick(tick, 10 * i)

        # Assert
        assert data == _joined(tick, 10 * i)
        assert data.count(b"\n") == len(tick)


def test_tick_bytes_fall_back_exactly_on_values_holding_commas() -> None:
    # Arrange: texts with commas, quotes, percent signs, newlines; nested mappings and lists;
    # a numpy scalar, non-finite floats, an int orjson refuses, a record() override
    events: list[Event] = [
        SignalEmitted(1, "s,1", "X", "long", "market", 1.5, None, 2.5, 1.0, 'a, "b" %s\n', "X"),
        OrderFilled(2, "s", 1, "X", 1, np.float64(2.5), float("inf"), 0.1, 0.0, "t", "e", 9.0, 1.0),
        DataRejected(3, "X", "f.csv", {"b": 2, "a": 1}),
        RunFinished(5, 7, {"s": {"final_equity": np.float64(1.25), "big": 2**70}}),
        _Recorded(6, "why"),
    ]

    for first in range(len(events)):
        tick = events[first:]

        # Act
        data = encode_tick(tick, 3)

        # Assert
        assert data == _joined(tick, 3)


@settings(max_examples=200, deadline=None)
@given(
    reason=st.text(),
    strategy=st.text(min_size=1),
    price=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
    qty=st.floats(allow_nan=False, allow_infinity=False),
    order_id=st.integers(min_value=-(2**70), max_value=2**70),
)
def test_tick_bytes_equal_single_lines_for_any_values(
    reason: str, strategy: str, price: float | None, qty: float, order_id: int
) -> None:
    # Arrange
    tick: list[Event] = [
        SignalEmitted(1, strategy, "X", "long", "limit", price, None, None, qty, reason, "X"),
        OrderSubmitted(1, strategy, order_id, "X", 1, qty, "limit", "entry", price, None, None),
    ]

    # Act
    data = encode_tick(tick, 0)

    # Assert
    assert data == _joined(tick, 0)
