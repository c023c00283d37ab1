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
import os
from collections.abc import Iterator, Sequence
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
    "log_path",
    "read_journal",
    "scan_lines",
    "truncate_torn_tail",
]

LOG_NAME = "events.jsonl"
_OPTIONS = orjson.OPT_SORT_KEYS
_PREFIX: dict[type, bytes] = {}
_CHUNK = 1 << 20


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
