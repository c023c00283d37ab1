"""The event stream as a contract: docs/events.md agrees with the dataclasses; new events."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

from papertape.engine.events import EVENT_KINDS, SCHEMA_VERSION
from papertape.engine.execution.orders import Signal
from tests.conftest import Script, bars, flat_bars, make_engine

DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"
HEADING = re.compile(r"^### `([a-z_]+)`")
ROW = re.compile(r"^\| `([a-z_]+)` \| ((?:[^|\\]|\\\|)+) \|")  # cells escape | as \|


def documented() -> dict[str, dict[str, str]]:
    """``{kind: {field: type}}`` from the field tables of docs/events.md."""
    out: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        head = HEADING.match(line)
        if head:
            current = out.setdefault(head.group(1), {})
            continue
        if line.startswith("## "):
            current = None
        row = ROW.match(line)
        if row and current is not None:
            current[row.group(1)] = row.group(2).replace("\\|", "|").strip().strip("`")
    return out


def test_every_event_kind_and_field_is_documented_with_its_type_and_nothing_else() -> None:
    doc = documented()

    assert sorted(doc) == sorted(EVENT_KINDS)
    for kind, cls in EVENT_KINDS.items():
        declared = {f.name: str(f.type) for f in fields(cls)}
        assert doc[kind] == declared, kind


def test_the_document_names_the_schema_version() -> None:
    assert f"Schema version: **{SCHEMA_VERSION}**" in DOC.read_text(encoding="utf-8")


def test_run_started_carries_the_schema_version_and_each_strategys_cash() -> None:
    engine, rec = make_engine(
        flat_bars([1.0, 2.0]), [("a", Script({})), ("b", Script({}))], cash=5_000.0
    )
    engine.run_sync()

    (started,) = rec.kinds("run_started")
    assert started.schema_version == SCHEMA_VERSION
    assert started.initial_cash == {"a": 5_000.0, "b": 5_000.0}


def test_bracket_legs_placed_and_the_oco_sibling_cancelled_are_events() -> None:
    # entry fills at 100 on bar 1; bar 2 falls through the stop at 95
    series = bars([(100, 100, 100, 100), (100, 101, 99, 100), (99, 99, 90, 92), (92, 92, 92, 92)])
    plan = {0: Signal.long("in", stop_loss=95.0, take_profit=110.0)}
    engine, rec = make_engine(series, Script(plan))
    engine.run_sync()

    (placed,) = rec.kinds("bracket_placed")
    (entry,) = rec.kinds("order")
    assert placed.entry_order_id == entry.order_id and placed.strategy == "s"
    assert (placed.stop_price, placed.target_price) == (95.0, 110.0)
    fills = rec.kinds("fill")
    assert [f.role for f in fills] == ["entry", "stop_loss"]
    assert fills[1].order_id == placed.stop_order_id
    (oco,) = rec.kinds("oco_cancelled")
    assert (oco.order_id, oco.filled_order_id) == (placed.target_order_id, placed.stop_order_id)
    kinds = [e.kind for e in rec.events]
    # the legs are placed after the entry's fill and before the stop's; the OCO cancel follows it
    assert kinds.index("bracket_placed") > kinds.index("fill")
    assert kinds.index("oco_cancelled") > len(kinds) - 1 - kinds[::-1].index("fill")
