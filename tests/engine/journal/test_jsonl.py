"""The log format: canonical lines, tolerant reading of a torn tail."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from papertape.engine.errors import JournalError
from papertape.engine.events import DataRejected, Event, OrderFilled, RunFinished, SignalEmitted
from papertape.engine.journal.jsonl import (
    complete_size,
    encode_event,
    read_journal,
    scan_lines,
    truncate_torn_tail,
)


def _fill(**kw: Any) -> OrderFilled:
    base: dict[str, Any] = dict(
        time=1_600_000_000_000_000_000,
        strategy="s",
        order_id=7,
        symbol="BTC",
        side=1,
        qty=0.5,
        price=101.25,
        fee=0.05,
        slippage=0.0,
        liquidity="taker",
        role="entry",
        cash_after=9_949.325,
        position_after=0.5,
    )
    base.update(kw)
    return OrderFilled(**base)


def test_line_is_kind_seq_then_fields_and_round_trips() -> None:
    line = encode_event(_fill(), 12)
    assert line.startswith(b'{"kind":"fill","seq":12,"time":1600000000000000000,')
    assert b"\n" not in line
    rec = json.loads(line)
    assert rec == {
        "kind": "fill",
        "seq": 12,
        **{k: v for k, v in _fill().record().items() if k != "kind"},
    }


def test_same_event_gives_the_same_bytes() -> None:
    assert encode_event(_fill(), 3) == encode_event(_fill(), 3)
    assert encode_event(_fill(), 3) != encode_event(_fill(), 4)


def test_non_finite_floats_become_null_and_numpy_scalars_plain_numbers() -> None:
    rec = json.loads(encode_event(_fill(price=float("nan"), qty=np.float64(2.5)), 0))
    assert rec["price"] is None
    assert rec["qty"] == 2.5


def test_nested_mappings_are_sorted_and_tuples_are_lists() -> None:
    ev = RunFinished(5, 10, {"b": {"z": 1, "a": 2}, "a": {}})
    line = encode_event(ev, 1)
    assert b'"summary":{"a":{},"b":{"a":2,"z":1}}' in line
    rej = DataRejected(1, "X", "f.csv", {"b": 1, "a": 2})
    assert json.loads(encode_event(rej, 0))["counts"] == {"a": 2, "b": 1}


@dataclass(frozen=True, slots=True)
class _Custom(Event):
    kind: ClassVar[str] = "custom"
    value: int

    def record(self) -> dict[str, Any]:
        return {"kind": self.kind, "time": self.time, "doubled": self.value * 2}


def test_an_overridden_record_is_what_gets_written() -> None:
    rec = json.loads(encode_event(_Custom(1, 21), 9))
    assert rec == {"kind": "custom", "time": 1, "doubled": 42, "seq": 9}


def test_integers_beyond_64_bits_still_encode() -> None:
    ev = SignalEmitted(1, "s", "X", "long", "market", None, None, None, 2**70, "big")
    assert json.loads(encode_event(ev, 0))["size"] == 2**70


def _write_log(path: Path, n: int) -> bytes:
    data = b"".join(encode_event(_fill(order_id=i), i) + b"\n" for i in range(n))
    path.write_bytes(data)
    return data


def test_reader_skips_a_torn_last_line(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    data = _write_log(log, 5)
    log.write_bytes(data + b'{"kind":"fill","seq":5,"ti')
    assert [r["seq"] for r in read_journal(log)] == [0, 1, 2, 3, 4]
    assert [r["seq"] for r in read_journal(tmp_path)] == [0, 1, 2, 3, 4]  # a folder works too


def test_reader_refuses_a_corrupt_line_in_the_middle(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    data = _write_log(log, 4)
    lines = data.split(b"\n")
    lines[1] = b'{"kind":"fill",garbage'
    log.write_bytes(b"\n".join(lines))
    with pytest.raises(JournalError, match=r"events.jsonl:2"):
        list(read_journal(log))


def test_truncate_torn_tail_keeps_whole_lines_only(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    data = _write_log(log, 3)
    log.write_bytes(data + b"partial")
    assert complete_size(log) == len(data)
    assert truncate_torn_tail(log) == len(b"partial")
    assert log.read_bytes() == data
    assert truncate_torn_tail(log) == 0


def test_scan_lines_gives_offsets_and_respects_an_end(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    data = _write_log(log, 50)
    got = list(scan_lines(log))
    assert len(got) == 50
    for offset, line in got:
        assert data[offset : offset + len(line) + 1] == line + b"\n"
    second = got[1][0]
    assert [o for o, _ in scan_lines(log, second, got[4][0])] == [o for o, _ in got[1:4]]


def test_reading_a_missing_journal_raises(tmp_path: Path) -> None:
    with pytest.raises(JournalError, match="no journal"):
        list(read_journal(tmp_path / "nope.jsonl"))
