"""Event values: EVENT_KINDS names the real classes; they build fast and stay frozen."""

from __future__ import annotations

import dataclasses

import orjson
import pytest

import papertape.engine.events as events
from papertape.engine.events import EVENT_KINDS, OrderFilled, RunStarted, SignalEmitted
from papertape.engine.execution.orders import Fill, OrderRole, Side


def test_event_kinds_name_the_classes_the_module_exports() -> None:
    # Arrange / Act: slots=True makes a second class object; the registry must hold that one
    stale = [kind for kind, cls in EVENT_KINDS.items() if getattr(events, cls.__name__) is not cls]

    # Assert
    assert stale == []
    assert all("__slots__" in vars(cls) for cls in EVENT_KINDS.values())


def test_fast_constructor_equals_field_by_field_values() -> None:
    # Arrange
    args = (5, "s1", 9, "BTC", -1, 0.5, 101.25, 0.02, 0.01, "taker", "entry", 950.0, -0.5)

    # Act
    fill = OrderFilled(*args)
    names = [f.name for f in dataclasses.fields(OrderFilled)]
    by_name = OrderFilled(**dict(zip(names, args, strict=True)))

    # Assert
    assert fill == by_name
    assert dataclasses.astuple(fill) == args
    assert OrderFilled.__init__.__qualname__ == "OrderFilled.__init__"
    assert orjson.loads(orjson.dumps(fill))["cash_after"] == 950.0


def test_fast_constructor_keeps_defaults_and_frozenness() -> None:
    # Arrange / Act
    sig = SignalEmitted(1, "s", "X", "long", "market", None, None, None, None, "r")

    # Assert
    assert sig.bar_symbol == ""
    with pytest.raises(dataclasses.FrozenInstanceError):
        sig.time = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        SignalEmitted(1, "s")  # type: ignore[call-arg]


def test_default_factory_fields_still_get_fresh_values() -> None:
    # Arrange / Act
    a = RunStarted(0, "r", "c", "d", 1, "replay", ("X",), ("s",), "v")
    b = RunStarted(0, "r", "c", "d", 1, "replay", ("X",), ("s",), "v")

    # Assert
    assert a.initial_cash == {} and a.initial_cash is not b.initial_cash


def test_fills_build_fast_and_stay_frozen() -> None:
    # Act
    fill = Fill(3, "s", "X", Side.BUY, 1.0, 10.0, 0.01, 0.0, "taker", OrderRole.ENTRY, 7)

    # Assert
    assert Fill.__init__.__qualname__ == "Fill.__init__"
    assert (fill.order_id, fill.side, fill.time) == (3, Side.BUY, 7)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fill.qty = 2.0  # type: ignore[misc]
