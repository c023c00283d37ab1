"""Build a replay :class:`~engine.feeds.kraken.tape.Tape` from a file.

``load_tape`` accepts what papertape ships or records: OHLCV bars (CSV/Parquet), a trades CSV
(``timestamp,id,side,price,amount``) or a capture file from ``papertape feed record``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from papertape.engine.errors import DataError
from papertape.engine.feeds.capture import is_capture, read_capture, read_header
from papertape.engine.feeds.kraken.protocol import CHANNELS, Candle
from papertape.engine.feeds.kraken.tape import (
    MINUTE_NS,
    Tape,
    TapeMessage,
    capture_messages,
    price_decimals,
    prints_from_bars,
    prints_from_ticks,
    require_minutes,
    synthesize,
)
from papertape.engine.feeds.loader import detect_kind, load_bars

__all__ = ["load_tape"]


def _columns(path: Path) -> list[str]:
    if path.suffix.lower() in (".parquet", ".pq"):
        from papertape.engine.feeds.parquet import parquet_column_names

        return list(parquet_column_names(path))
    try:
        with path.open(encoding="utf-8-sig") as fh:
            return fh.readline().strip().split(",")
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc}") from exc


def load_tape(
    path: str | os.PathLike[str],
    symbol: str | None = None,
    *,
    history: int = 0,
    bars: int | None = None,
    trades_per_bar: int = 4,
    interval_min: int = 1,
    depth: int = 10,
    seed: int = 7,
    level_qty: float | None = None,
    level_bps: float = 1.0,
) -> Tape:
    """Read a data or capture file into a tape for the replay server.

    Args:
        path: OHLCV bars, a trades CSV or a capture file.
        symbol: Symbol name on the wire (default: the file name; a capture's own symbols).
        history: Bars served as history (the first ohlc snapshot) before the tape starts.
        bars: Replay at most this many bars after the history (trades files: minutes).
        trades_per_bar: Prints synthesized per bar (at least 4).
        interval_min: Candle interval of a trades file, in minutes (bars keep their own).
        depth: Levels per side of the synthetic book.
        seed: Seed of the synthetic book sizes.
        level_qty: Typical size of a book level (default: one print's typical size).
        level_bps: Distance between book levels, in basis points of price.

    Raises:
        DataFileNotFound: No such file.
        DataError: The file cannot be replayed.
    """
    p = Path(path)
    if p.suffix.lower() in (".jsonl", ".capture") or (p.is_file() and is_capture(p)):
        return _capture_tape(p, symbol)
    if not p.is_file():
        from papertape.engine.errors import DataFileNotFound

        raise DataFileNotFound(f"replay file not found: {p}")
    name = symbol or p.stem
    kind = detect_kind(_columns(p), str(p))
    series = load_bars(p, symbol=name, kind=kind)
    if not len(series):
        raise DataError(f"{p}: no valid rows to replay")
    decimals = price_decimals(
        series.close
        if kind == "trades"
        else np.concatenate([series.open, series.high, series.low, series.close])
    )
    if kind == "trades":
        step = interval_min * MINUTE_NS
        cut = len(series)
        if bars is not None:
            end = (int(series.time[0]) // step + bars) * step
            cut = int(np.searchsorted(series.time, end))
        qty = float(np.median(series.volume)) or 1.0
        prelude, stream = synthesize(
            prints_from_ticks(series.time[:cut], series.close[:cut], series.volume[:cut], step),
            name,
            step,
            decimals,
            depth=depth,
            level_bps=level_bps,
            level_qty=level_qty or qty,
            seed=seed,
            first_price=float(series.close[0]),
        )
        return _tape(name, interval_min, depth, prelude, stream, str(p))
    step = series.interval_ns
    minutes = require_minutes(step, str(p))
    h = max(0, min(history, len(series) - 1))
    end = len(series) if bars is None else min(len(series), h + bars)
    hist = [
        Candle(
            name,
            int(series.time[i]),
            minutes,
            float(series.open[i]),
            float(series.high[i]),
            float(series.low[i]),
            float(series.close[i]),
            float(series.volume[i]),
            float(series.close[i]),
            0,
        )
        for i in range(h)
    ]
    qty = float(np.median(series.volume)) / trades_per_bar or 1.0
    prints = prints_from_bars(
        series.time[h:end],
        series.open[h:end],
        series.high[h:end],
        series.low[h:end],
        series.close[h:end],
        series.volume[h:end],
        step,
        trades_per_bar,
    )
    first = float(series.close[h - 1]) if h else float(series.open[0])
    prelude, stream = synthesize(
        prints,
        name,
        step,
        decimals,
        depth=depth,
        level_bps=level_bps,
        level_qty=level_qty or qty,
        seed=seed,
        history=hist,
        first_price=first,
    )
    return _tape(name, minutes, depth, prelude, stream, str(p))


def _tape(
    symbol: str,
    minutes: int,
    depth: int,
    prelude: list[TapeMessage],
    stream: Iterator[TapeMessage],
    source: str,
) -> Tape:
    def once() -> Iterator[TapeMessage]:
        return stream

    return Tape((symbol,), CHANNELS, minutes, depth, once, prelude, source)


def _capture_tape(path: Path, symbol: str | None) -> Tape:
    header = read_header(path)
    symbols = tuple(str(s) for s in header.get("symbols", ()))
    if symbol is not None:
        if symbols and symbol not in symbols:
            raise DataError(f"{path}: recorded symbols are {list(symbols)}, not {symbol!r}")
        symbols = (symbol,)
    if not symbols:
        raise DataError(f"{path}: the capture header names no symbols")
    channels = tuple(c for c in header.get("channels", CHANNELS) if c in CHANNELS)

    def frames() -> Iterator[TapeMessage]:
        for msg in capture_messages(read_capture(path)):
            if msg.symbol in symbols:
                yield msg

    return Tape(
        symbols,
        channels or CHANNELS,
        int(header.get("interval", 1)),
        int(header.get("depth", 10)),
        frames,
        [],
        str(path),
    )
