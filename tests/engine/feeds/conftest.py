"""Factories shared by the feed tests: data files written into ``tmp_path``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib.resources import files
from pathlib import Path

import pytest

OHLCV_HEADER = "timestamp,open,high,low,close,volume"
DAY_NS = 86_400 * 10**9
JAN_1_2024_NS = 1_704_067_200 * 10**9  # 2024-01-01T00:00:00Z

WriteText = Callable[..., Path]
BarLine = Callable[..., str]


@pytest.fixture
def write_text(tmp_path: Path) -> WriteText:
    """Write text to a file in tmp_path and return its path."""

    def write(text: str, name: str = "TEST.csv") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def bar_line() -> BarLine:
    """One OHLCV CSV line for day ``day`` of January 2024, valid unless told otherwise."""

    def line(
        day: int,
        o: object = 10.0,
        h: object = 12.0,
        low: object = 9.0,
        c: object = 11.0,
        v: object = 100.0,
        time: str | None = None,
    ) -> str:
        stamp = time if time is not None else f"2024-01-{day:02d}"
        return f"{stamp},{o},{h},{low},{c},{v}"

    return line


@pytest.fixture
def write_bars(write_text: WriteText) -> Callable[..., Path]:
    """Write an OHLCV CSV from data lines (header added) and return its path."""

    def write(lines: Iterable[str], header: str = OHLCV_HEADER, name: str = "TEST.csv") -> Path:
        return write_text("\n".join([header, *lines]) + "\n", name)

    return write


@pytest.fixture(scope="session")
def shipped_data() -> Path:
    """The folder of market data shipped inside the engine package."""
    return Path(str(files("papertape.engine") / "data"))
