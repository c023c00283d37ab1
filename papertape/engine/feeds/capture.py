"""Capture files: a recorded WebSocket stream, frame by frame, for later replay.

The format is JSON Lines. The first line is a header::

    {"papertape_capture": 1, "source": "wss://ws.kraken.com/v2", "symbols": ["BTC/USD"], ...}

and every other line one received frame with its receive time (ns since the epoch)::

    {"t":1700000000123456789,"m":<the frame exactly as received>}

The frame is embedded verbatim (it is a JSON object already), so number texts survive and the
book checksums still verify when the capture is served again by ``papertape feed serve``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from papertape.engine.errors import DataError, DataFileNotFound

__all__ = ["CAPTURE_VERSION", "CaptureWriter", "is_capture", "read_capture", "read_header"]

CAPTURE_VERSION = 1
_PREFIX = '{"t":'
_FRAME = ',"m":'


class CaptureWriter:
    """Appends received frames to a capture file (flushed every ``flush_every`` frames)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        source: str,
        symbols: Sequence[str],
        extra: dict[str, Any] | None = None,
        flush_every: int = 256,
    ) -> None:
        self.path = Path(path)
        self.frames = 0
        self.flush_every = max(1, flush_every)
        header = {
            "papertape_capture": CAPTURE_VERSION,
            "source": source,
            "symbols": list(symbols),
            **(extra or {}),
        }
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh: IO[str] | None = self.path.open("w", encoding="utf-8")
            self._fh.write(json.dumps(header) + "\n")
        except OSError as exc:
            raise DataError(f"cannot write capture file {self.path}: {exc}") from exc

    def write(self, frame: str | bytes, received_ns: int | None = None) -> None:
        """Record one frame (text frames only; the receive time defaults to now)."""
        if self._fh is None:
            return
        text = frame.decode("utf-8") if isinstance(frame, bytes) else frame
        if "\n" in text:  # Kraken sends compact JSON; keep one frame per line regardless
            text = json.dumps(json.loads(text), separators=(",", ":"))
        t = received_ns if received_ns is not None else time.time_ns()
        self._fh.write(f"{_PREFIX}{t}{_FRAME}{text}}}\n")
        self.frames += 1
        if self.frames % self.flush_every == 0:
            self._fh.flush()

    def close(self) -> None:
        """Flush and close (idempotent)."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def read_header(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The header of a capture file.

    Raises:
        DataFileNotFound: No such file.
        DataError: The file is not a papertape capture.
    """
    p = Path(path)
    try:
        with p.open(encoding="utf-8") as fh:
            first = fh.readline()
    except FileNotFoundError as exc:
        raise DataFileNotFound(f"capture file not found: {p}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read capture file {p}: {exc}") from exc
    try:
        header = json.loads(first)
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("papertape_capture") != CAPTURE_VERSION:
        raise DataError(f"{p}: not a papertape capture file (version {CAPTURE_VERSION})")
    return header


def is_capture(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` starts with a capture header."""
    try:
        read_header(path)
    except DataError:
        return False
    return True


def read_capture(path: str | os.PathLike[str]) -> Iterator[tuple[int, str]]:
    """Yield ``(receive time ns, frame text)`` for every frame; a torn last line is skipped.

    Raises:
        DataError: A line in the middle of the file is not a capture record.
    """
    p = Path(path)
    read_header(p)
    with p.open(encoding="utf-8") as fh:
        fh.readline()
        for n, line in enumerate(fh, start=2):
            if not line.endswith("\n"):
                return  # the recorder was killed mid-line
            body = line.rstrip("\n")
            cut = body.find(_FRAME)
            if not body.startswith(_PREFIX) or cut < 0 or not body.endswith("}"):
                raise DataError(f"{p}:{n}: not a capture record")
            try:
                t = int(body[len(_PREFIX) : cut])
            except ValueError:
                raise DataError(f"{p}:{n}: bad receive time") from None
            yield t, body[cut + len(_FRAME) : -1]
