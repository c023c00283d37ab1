"""The validated-load cache: used when the file is unchanged, rebuilt when not or when damaged."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from papertape.engine.feeds import cache as cache_module
from papertape.engine.feeds import csv as csv_module
from papertape.engine.feeds.base import BarSeries
from papertape.engine.feeds.cache import CACHE_DIR_ENV, cache_root
from papertape.engine.feeds.csv import load_csv
from papertape.engine.feeds.loader import load_bars

WriteBars = Callable[..., Path]
BarLine = Callable[..., str]


@pytest.fixture
def bars_file(write_bars: WriteBars, bar_line: BarLine) -> Path:
    lines = [bar_line(d, c=10 + d / 100) for d in range(1, 29)]
    lines.insert(3, bar_line(3, v=-5))  # one rejected row, so the report has something in it
    return write_bars(lines, name="BTC.csv")


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Record every real parse of a file (a cache hit parses nothing)."""
    seen: list[Path] = []
    real = csv_module.read_columns

    def counting(path: Path, *args: object, **kwargs: object) -> csv_module.ParsedColumns:
        seen.append(path)
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(csv_module, "read_columns", counting)
    return seen


def _same(a: BarSeries, b: BarSeries) -> None:
    for name in ("time", "open", "high", "low", "close", "volume"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.rejections is not None and b.rejections is not None
    assert a.rejections.to_json() == b.rejections.to_json()


def test_second_load_comes_from_the_cache_unchanged(
    bars_file: Path, cache_dir: Path, parses: list[Path]
) -> None:
    cold = load_csv(bars_file, cache=cache_dir)
    warm = load_csv(bars_file, cache=cache_dir)

    assert parses == [bars_file]
    _same(cold, warm)
    assert warm.rejections is not None and warm.rejections.as_dict() == {"negative_volume": 1}
    assert not warm.close.flags.writeable


def test_cached_columns_are_memory_mapped(bars_file: Path, cache_dir: Path) -> None:
    load_csv(bars_file, cache=cache_dir)
    warm = load_csv(bars_file, cache=cache_dir)

    base = warm.close
    while base.base is not None and not isinstance(base, np.memmap):
        base = base.base  # type: ignore[assignment]
    assert isinstance(base, np.memmap)


def test_cached_load_logs_the_rejections_again(
    bars_file: Path, cache_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    load_csv(bars_file, cache=cache_dir)

    with caplog.at_level(logging.WARNING, logger="papertape.feeds"):
        load_csv(bars_file, cache=cache_dir)

    assert "rejected 1 of 29 rows (negative_volume=1); first at line 5" in caplog.text


def test_symbol_is_applied_to_a_cached_load(bars_file: Path, cache_dir: Path) -> None:
    load_csv(bars_file, cache=cache_dir)

    assert load_csv(bars_file, "XBT/USD", cache=cache_dir).symbol == "XBT/USD"
    assert load_csv(bars_file, cache=cache_dir).symbol == "BTC"


def test_edited_file_is_loaded_again(
    bars_file: Path, cache_dir: Path, parses: list[Path], bar_line: BarLine
) -> None:
    load_csv(bars_file, cache=cache_dir)
    with bars_file.open("a") as handle:
        handle.write(bar_line(29) + "\n")

    series = load_csv(bars_file, cache=cache_dir)

    assert len(parses) == 2
    assert len(series) == 29


def test_same_size_rewrite_with_restored_mtime_is_detected(
    bars_file: Path, cache_dir: Path, parses: list[Path]
) -> None:
    load_csv(bars_file, cache=cache_dir)
    before = bars_file.stat()
    text = bars_file.read_text()
    bars_file.write_text(
        text.replace("2024-01-28,10.0,12.0,9.0,10.28", "2024-01-28,10.0,12.0,9.0,10.18")
    )
    os.utime(bars_file, ns=(before.st_atime_ns, before.st_mtime_ns))  # like cp -p / rsync -t
    assert bars_file.stat().st_size == before.st_size

    series = load_csv(bars_file, cache=cache_dir)

    assert len(parses) == 2
    assert series.close[-1] == 10.18


def _entry(cache_dir: Path) -> Path:
    (entry,) = [p for p in cache_dir.iterdir() if p.is_dir()]
    return entry


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda e: (e / "close.npy").write_bytes(b"not numpy"), id="garbage-npy"),
        pytest.param(
            lambda e: (e / "time.npy").write_bytes((e / "time.npy").read_bytes()[:-16]),
            id="truncated-npy",
        ),
        pytest.param(lambda e: (e / "volume.npy").unlink(), id="missing-npy"),
        pytest.param(lambda e: (e / "meta.json").write_text('{"stamp": '), id="torn-meta"),
        pytest.param(lambda e: (e / "meta.json").write_text("[]"), id="wrong-meta"),
        pytest.param(lambda e: _flip_last_byte(e / "high.npy"), id="flipped-byte"),
    ],
)
def test_damaged_entry_is_ignored_logged_and_rebuilt(
    bars_file: Path,
    cache_dir: Path,
    parses: list[Path],
    damage: Callable[[Path], object],
    caplog: pytest.LogCaptureFixture,
) -> None:
    cold = load_csv(bars_file, cache=cache_dir)
    damage(_entry(cache_dir))

    with caplog.at_level(logging.WARNING, logger="papertape.feeds"):
        rebuilt = load_csv(bars_file, cache=cache_dir)
    again = load_csv(bars_file, cache=cache_dir)

    assert "damaged load cache entry" in caplog.text
    assert len(parses) == 2  # rebuilt once, then served from the repaired entry
    _same(cold, rebuilt)
    _same(cold, again)


def _flip_last_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))


def test_unwritable_cache_is_logged_and_the_load_goes_on(
    bars_file: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")

    with caplog.at_level(logging.WARNING, logger="papertape.feeds"):
        series = load_csv(bars_file, cache=blocker / "cache")

    assert len(series) == 28
    assert "cannot write the load cache" in caplog.text


def test_default_cache_skips_small_files_and_honours_the_environment(
    bars_file: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_DIR_ENV, str(cache_dir))
    assert cache_root() == cache_dir
    load_csv(bars_file)
    assert not cache_dir.exists()  # far below MIN_CACHED_BYTES

    monkeypatch.setattr(cache_module, "MIN_CACHED_BYTES", 0)
    load_csv(bars_file)
    assert (_entry(cache_dir) / "meta.json").exists()

    monkeypatch.setenv(CACHE_DIR_ENV, "off")
    assert cache_root() is None
    assert cache_root(False) is None


def test_default_folder_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(CACHE_DIR_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))

    assert cache_root() == tmp_path / "papertape" / "feeds"


def test_bars_and_trades_of_one_file_are_cached_apart(
    write_bars: WriteBars, cache_dir: Path
) -> None:
    rows = ["2024-01-01T00:00:00Z,1,1,1,1,1,1,1", "2024-01-01T00:00:00Z,2,2,2,2,2,2,2"]
    path = write_bars(rows, header="timestamp,open,high,low,close,volume,price,amount")

    bars = load_bars(path, kind="ohlcv", cache=cache_dir)
    ticks = load_bars(path, kind="trades", cache=cache_dir)

    assert len(bars) == 1  # the second bar repeats the time
    assert len(ticks) == 2  # trades may share a time
    assert len([p for p in cache_dir.iterdir() if p.is_dir()]) == 2
