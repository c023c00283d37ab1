"""A cache of validated loads: a second run of the same file skips parsing and validation.

Where: ``$PAPERTAPE_CACHE_DIR`` when set (``off`` disables the cache), else
``$XDG_CACHE_HOME/papertape/feeds``, else ``~/.cache/papertape/feeds``; a loader's ``cache``
argument overrides both (a folder, or False). With the default setting only files of at least
:data:`MIN_CACHED_BYTES` are cached: smaller ones parse in milliseconds.

One entry per (file, loader kind), in a folder named by a hash of both: ``meta.json`` (the
stamp, the rejection report, the row count, a SHA-1 of each column) and one ``.npy`` file per
column (time, open, high, low, close, volume), memory-mapped read-only on load.

**When an entry is used.** Its stamp must equal the file's: resolved path, size,
``mtime_ns``, a hash of the first and the last 64 KiB, the loader kind and
:data:`LOADER_VERSION`. Size and ``mtime_ns`` catch every ordinary edit (any write moves the
mtime, in ns on current file systems); the head and tail hashes catch a file replaced by
another of the same size with its mtime restored (``cp -p``, ``rsync -t``, an unpacked archive)
whenever the two differ in their first or last rows — which two exports of the same market
always do. Hashing the whole file would catch an edit in the middle that keeps size and mtime,
which no ordinary tool makes, at the price of ~50 ms per 70 MB; the stamp costs ~0.1 ms.

**Corruption.** Every column is checked against its SHA-1 (~50 ms for 1M bars) and its shape
and type; a truncated, garbled or half-written entry is ignored, logged and rebuilt. Files are
written under temporary names and renamed into place, ``meta.json`` last, so a reader never
maps a file that is being written, and a mix of two writers' files fails the checksums.
A cache that cannot be written (read-only, disk full) is logged and the load goes on.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from papertape.engine.feeds.base import BarSeries, RejectionReport
from papertape.engine.feeds.validate import log_summary

__all__ = [
    "CACHE_DIR_ENV",
    "LOADER_VERSION",
    "MIN_CACHED_BYTES",
    "CacheSetting",
    "cache_root",
    "cached_series",
    "file_stamp",
]

logger = logging.getLogger("papertape.feeds")

CacheSetting = bool | str | os.PathLike[str] | None
"""None: the default folder (files >= MIN_CACHED_BYTES); False: off; True or a folder: on."""

CACHE_DIR_ENV = "PAPERTAPE_CACHE_DIR"
MIN_CACHED_BYTES = 1 << 20
LOADER_VERSION = 1
"""Bumped whenever parsing or validation changes what a file loads as."""

_SAMPLE = 64 * 1024
_COLUMNS = ("time", "open", "high", "low", "close", "volume")
_DTYPES = {"time": np.dtype(np.int64)} | {c: np.dtype(np.float64) for c in _COLUMNS[1:]}
_OFF = {"off", "0", "false", "no", "none"}


def cache_root(setting: CacheSetting = None) -> Path | None:
    """The cache folder for ``setting``, or None when caching is off."""
    if setting is False:
        return None
    if setting is not None and setting is not True:
        return Path(setting)
    env = os.environ.get(CACHE_DIR_ENV)
    if env is not None:
        return None if env.strip().lower() in _OFF or not env.strip() else Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "papertape" / "feeds"


def file_stamp(file: Path, kind: str) -> dict[str, Any]:
    """What identifies a file's contents for the cache (see the module docstring).

    Raises:
        OSError: The file cannot be read.
    """
    st = file.stat()
    with file.open("rb") as handle:
        head = handle.read(_SAMPLE)
        handle.seek(max(st.st_size - _SAMPLE, 0))
        tail = handle.read(_SAMPLE)
    return {
        "loader_version": LOADER_VERSION,
        "kind": kind,
        "path": str(file.resolve()),
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "head_sha1": _sha1(head),
        "tail_sha1": _sha1(tail),
    }


def cached_series(
    file: Path, kind: str, build: Callable[[], BarSeries], setting: CacheSetting = None
) -> BarSeries:
    """Load ``file`` from the cache, or ``build()`` it and store the result.

    Args:
        file: The data file.
        kind: The loader (``ohlcv``, ``trades``): files load differently per kind.
        build: Parses and validates the file (also raises its errors).
        setting: Cache folder, True/None for the default one, False for none.

    Returns:
        The validated series (memory-mapped, read-only columns when it came from the cache).
    """
    root = cache_root(setting)
    if root is None:
        return build()
    try:
        if setting is None and file.stat().st_size < MIN_CACHED_BYTES:
            return build()
        stamp = file_stamp(file, kind)
    except OSError:
        return build()  # a missing or unreadable file: the loader says why
    entry = root / _sha1(f"{kind}\0{stamp['path']}".encode())[:24]
    series = _read_entry(entry, stamp)
    if series is not None:
        if series.rejections is not None:
            log_summary(series.rejections)
        return series
    series = build()
    _write_entry(entry, stamp, series)
    return series


def _read_entry(entry: Path, stamp: dict[str, Any]) -> BarSeries | None:
    meta_file = entry / "meta.json"
    if not meta_file.exists():
        return None
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        if meta.get("stamp") != stamp:
            logger.info("%s changed since it was cached; loading it again", stamp["path"])
            return None
        rows = int(meta["rows"])
        columns = [_load_column(entry, name, rows, meta["sha1"][name]) for name in _COLUMNS]
        report = RejectionReport.from_json(meta["report"])
        time, open_, high, low, close, volume = columns
        return BarSeries(
            str(meta["symbol"]),
            time,
            open_,
            high,
            low,
            close,
            volume,
            str(meta["source"]),
            report,
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        logger.warning("ignoring a damaged load cache entry %s (%s); rebuilding it", entry, exc)
        return None


def _load_column(entry: Path, name: str, rows: int, sha1: str) -> NDArray[Any]:
    column = np.load(entry / f"{name}.npy", mmap_mode="r", allow_pickle=False)
    if column.dtype != _DTYPES[name] or column.shape != (rows,):
        raise ValueError(f"{name}.npy holds {column.dtype}{column.shape}, expected ({rows},)")
    if _column_sha1(column) != sha1:
        raise ValueError(f"{name}.npy does not match its checksum")
    return np.asarray(column)


def _write_entry(entry: Path, stamp: dict[str, Any], series: BarSeries) -> None:
    try:
        entry.mkdir(parents=True, exist_ok=True)
        sums: dict[str, str] = {}
        for name in _COLUMNS:
            column: NDArray[Any] = np.ascontiguousarray(getattr(series, name))
            sums[name] = _column_sha1(column)
            _replace(entry / f"{name}.npy", partial(np.save, arr=column, allow_pickle=False))
        report = series.rejections or RejectionReport(series.source)
        meta = {
            "stamp": stamp,
            "rows": len(series),
            "symbol": series.symbol,
            "source": series.source,
            "sha1": sums,
            "report": report.to_json(),
        }
        blob = json.dumps(meta, indent=1).encode()
        _replace(entry / "meta.json", lambda handle: handle.write(blob))
    except OSError as exc:
        logger.warning("cannot write the load cache at %s (%s); going on without it", entry, exc)


def _replace(target: Path, write: Callable[[Any], object]) -> None:
    """Write a file under a temporary name, then rename it over ``target``."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _column_sha1(column: NDArray[Any]) -> str:
    return _sha1(np.ascontiguousarray(column).view(np.uint8).data)


def _sha1(data: bytes | memoryview) -> str:
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()
