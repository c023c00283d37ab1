r"""The JSON Lines event log: one canonical line per event, append-only.

Line format: ``{"kind":K,"seq":N,<the event's fields in declaration order>}`` followed by
``\n``. ``seq`` counts events from 0 in stream order, so line ``N`` of a log holds event
``N``. Nested mappings are written with sorted keys, non-finite floats as ``null``, text as
UTF-8. Nothing in a line depends on the wall clock, so the same config and data give a
byte-identical log. Lines are encoded with orjson (several times faster than :mod:`json`
for float-heavy events); an event class that overrides :meth:`Event.record` is written from
its record, with sorted keys.

A log is read back with :func:`read_journal` (dicts) or :func:`scan_lines` (raw lines with
their offsets). A crash can leave a *torn* last line, one without its newline: readers skip it
and :func:`truncate_torn_tail` removes it before a run is resumed.
"""

from __future__ import annotations

import json
import math
import operator
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

import orjson

from papertape.engine.errors import JournalError
from papertape.engine.events import Event

__all__ = [
    "LOG_NAME",
    "complete_size",
    "decode_line",
    "encode_event",
    "encode_events",
    "encode_tick",
    "log_path",
    "read_journal",
    "scan_lines",
    "truncate_torn_tail",
]

LOG_NAME = "events.jsonl"
_OPTIONS = orjson.OPT_SORT_KEYS
_PREFIX: dict[type, bytes] = {}
_CHUNK = 1 << 20
_MISSING: Any = object()


def _default(value: Any) -> Any:
    """Orjson's fallback for types it does not know (numpy scalars, sets, paths...)."""
    item = getattr(value, "item", None)
    if callable(item):
        return item()
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    return str(value)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _slow(record: dict[str, Any], seq: int) -> bytes:
    """Record-based encoding (overridden ``record()``, or values orjson refuses)."""
    body = {**record, "seq": seq}
    try:
        return orjson.dumps(body, default=_default, option=_OPTIONS | orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError:  # e.g. an int beyond 64 bits
        text = json.dumps(
            _clean(body), sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False
        )
        return text.encode()


def encode_event(event: Event, seq: int) -> bytes:
    """One canonical journal line for ``event`` as event number ``seq`` (no newline)."""
    cls = type(event)
    prefix = _PREFIX.get(cls)
    if prefix is None:
        if cls.record is not Event.record:
            return _slow(event.record(), seq)
        prefix = _PREFIX[cls] = b'{"kind":' + orjson.dumps(cls.kind) + b',"seq":'
    try:
        body = orjson.dumps(event, default=_default, option=_OPTIONS)
    except orjson.JSONEncodeError:
        return _slow(event.record(), seq)
    return b"%b%d,%b" % (prefix, seq, body[1:])


def encode_events(events: Sequence[Event], seq: int) -> list[bytes]:
    """Lines for consecutive events numbered from ``seq``: :func:`encode_event` in one loop.

    The per-tick batch of the writer; byte for byte what :func:`encode_event` gives, without
    a function call per event on the common path.
    """
    out: list[bytes] = []
    append = out.append
    dumps = orjson.dumps
    get = _PREFIX.get
    for event in events:
        prefix = get(event.__class__)
        if prefix is None:  # first of its class, or a class written from its record()
            append(encode_event(event, seq))
        else:
            try:
                body = dumps(event, default=_default, option=_OPTIONS)
            except orjson.JSONEncodeError:
                append(_slow(event.record(), seq))
            else:
                append(b"%b%d,%b" % (prefix, seq, body[1:]))
        seq += 1
    return out


# Per event class: the keys of its line, each with the separator before it (the first one
# closes the previous line: ``}\n{"kind":K,"seq":``), and a C-level getter of its field values
# in declaration order. None for a class written from its record() or whose dataclass
# encoding orjson does not write in field order (its ticks go event by event).
_Getter = Callable[[Any], tuple[Any, ...]]
_TickSpec = tuple[tuple[bytes, ...], _Getter]
_TICK: dict[type, _TickSpec | None] = {}
# Per tick composition (the classes of its events, in order): a ``%b`` template of the tick's
# bytes and the getters. Ticks repeat a few compositions (signal + order; fill + trade + ...).
_TickForm = tuple[bytes, tuple[_Getter, ...]]
_FORMS: dict[tuple[type, ...], _TickForm | None] = {}
_MAX_FORMS = 4096
_CLOSE = b"}\n"


def _tick_spec(event: Event) -> _TickSpec | None:
    """How :func:`encode_tick` writes events of ``event``'s class (None: event by event)."""
    cls = type(event)
    if cls.record is not Event.record:
        return None
    names = tuple(f.name for f in fields(cls))
    written = tuple(orjson.loads(orjson.dumps(event, default=_default, option=_OPTIONS)))
    if written != names:
        return None
    first = _CLOSE + b'{"kind":' + orjson.dumps(cls.kind) + b',"seq":'
    keys = (first, *(b"," + orjson.dumps(n) + b":" for n in names))
    getter: _Getter = operator.attrgetter(*names)
    if len(names) == 1:
        one = getter
        getter = lambda e: (one(e),)  # noqa: E731 - attrgetter of one name: no tuple
    return keys, getter


def _tick_form(events: Sequence[Event]) -> _TickForm | None:
    """Build the template of a tick composition (None: the tick goes event by event)."""
    keys: list[bytes] = []
    getters: list[_Getter] = []
    for event in events:
        cls = type(event)
        if cls not in _TICK:  # orjson refusing this event raises: decide on another one
            _TICK[cls] = _tick_spec(event)
        spec = _TICK[cls]
        if spec is None:
            return None
        keys += spec[0]
        getters.append(spec[1])
    template = b"".join(k.replace(b"%", b"%%") + b"%b" for k in keys)[len(_CLOSE) :] + _CLOSE
    return template, tuple(getters)


def encode_tick(events: Sequence[Event], seq: int) -> bytes:
    r"""The log bytes of one tick: its events' lines from ``seq``, each ending in ``\n``.

    Byte for byte ``b"".join(line + b"\n" for line in encode_events(events, seq))``, with
    one orjson call for the whole tick: orjson writes a list of plain values several times
    faster than the same values as slotted dataclasses. The tick's field values (each event's
    ``seq`` first) go into one flat list; its JSON is split at its commas and poured into a
    template holding the keys. The split is exact when the JSON holds exactly one comma per
    value boundary, which is checked: a value holding a comma itself (a text with a comma, a
    mapping or list of several items), a value orjson refuses, or an event class written
    from its ``record()`` sends the tick through :func:`encode_events`.
    """
    composition = tuple(map(type, events))
    form = _FORMS.get(composition, _MISSING)
    if form is _MISSING:
        try:
            form = _tick_form(events)
        except orjson.JSONEncodeError:
            return _tick_slow(events, seq)
        if len(_FORMS) < _MAX_FORMS:
            _FORMS[composition] = form
    if form is None:
        return _tick_slow(events, seq)
    template, getters = form
    values: list[Any] = []
    append = values.append
    first = seq
    for event, getter in zip(events, getters, strict=True):
        append(seq)
        values += getter(event)
        seq += 1
    try:
        body = orjson.dumps(values, default=_default, option=_OPTIONS)
    except orjson.JSONEncodeError:
        return _tick_slow(events, first)
    parts = body[1:-1].split(b",")
    if len(parts) != len(values):
        return _tick_slow(events, first)
    return template % tuple(parts)  # type: ignore[no-any-return]


def _tick_slow(events: Sequence[Event], seq: int) -> bytes:
    lines = encode_events(events, seq)
    lines.append(b"")
    return b"\n".join(lines)


def decode_line(line: bytes | str) -> dict[str, Any]:
    """Parse one journal line.

    Raises:
        JournalError: The line is not a JSON object.
    """
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise JournalError(f"corrupt journal line: {exc}") from None
    if not isinstance(obj, dict):
        raise JournalError(f"corrupt journal line: not an object: {line[:80]!r}")
    return obj


def log_path(path: str | os.PathLike[str]) -> Path:
    """The event log of a run folder (or ``path`` itself when it is a file)."""
    p = Path(path)
    return p / LOG_NAME if p.is_dir() else p


def complete_size(path: str | os.PathLike[str]) -> int:
    """Bytes of ``path`` up to and including its last newline (0 for a missing file)."""
    try:
        with open(path, "rb") as fh:
            end = fh.seek(0, os.SEEK_END)
            pos = end
            while pos > 0:
                start = max(0, pos - 65_536)
                fh.seek(start)
                block = fh.read(pos - start)
                nl = block.rfind(b"\n")
                if nl >= 0:
                    return start + nl + 1
                pos = start
            return 0
    except FileNotFoundError:
        return 0
    except OSError as exc:
        raise JournalError(f"cannot read journal {path}: {exc}") from exc


def truncate_torn_tail(path: str | os.PathLike[str]) -> int:
    """Cut a torn last line (no newline) off a log; return the number of bytes removed."""
    try:
        size = os.path.getsize(path)
    except FileNotFoundError:
        return 0
    keep = complete_size(path)
    if keep == size:
        return 0
    try:
        os.truncate(path, keep)
    except OSError as exc:
        raise JournalError(f"cannot repair journal {path}: {exc}") from exc
    return size - keep


def scan_lines(
    path: str | os.PathLike[str], offset: int = 0, end: int | None = None
) -> Iterator[tuple[int, bytes]]:
    r"""Yield ``(offset, line)`` for each complete line from ``offset`` (lines without ``\n``).

    Stops at ``end`` (a byte offset) when given, and before a torn last line.
    """
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed in the finally below
    except FileNotFoundError:
        return
    except OSError as exc:
        raise JournalError(f"cannot read journal {path}: {exc}") from exc
    try:
        fh.seek(offset)
        pos = offset
        rest = b""
        while True:
            want = _CHUNK if end is None else min(_CHUNK, end - pos - len(rest))
            block = fh.read(want) if want > 0 else b""
            if not block:
                return
            data = rest + block
            start = 0
            while True:
                nl = data.find(b"\n", start)
                if nl < 0:
                    break
                yield pos + start, data[start:nl]
                start = nl + 1
            pos += start
            rest = data[start:]
    except OSError as exc:
        raise JournalError(f"cannot read journal {path}: {exc}") from exc
    finally:
        fh.close()


def read_journal(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Yield the events of a run folder or log file as dicts, in order.

    A torn last line (a crash in the middle of a write) is skipped; any other line that does
    not parse raises.

    Raises:
        JournalError: The log cannot be read or holds a corrupt complete line.
    """
    p = log_path(path)
    if not p.exists():
        raise JournalError(f"no journal at {p}")
    for number, (_, line) in enumerate(scan_lines(p), start=1):
        try:
            yield decode_line(line)
        except JournalError as exc:
            raise JournalError(f"{p}:{number}: {exc}") from None
