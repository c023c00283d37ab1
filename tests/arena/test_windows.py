from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from papertape.arena import parse_arena_config, run_arena
from papertape.arena.windows import plan_windows
from papertape.engine.errors import ConfigError
from papertape.engine.feeds.loader import load_bars
from tests.arena.conftest import SP500, arena_raw


@pytest.fixture(scope="module")
def spx():
    return load_bars(SP500, symbol="SPX")


def test_n_windows_are_disjoint_equal_and_leave_the_warm_up(spx) -> None:
    windows = plan_windows([spx], 4, warmup_bars=300)
    assert windows[0].start == spx.time[300]
    assert windows[-1].end == spx.time[-1]
    for a, b in itertools.pairwise(windows):
        assert a.end < b.start
        assert np.searchsorted(spx.time, b.start) == np.searchsorted(spx.time, a.end) + 1
    sizes = [np.sum((spx.time >= w.start) & (spx.time <= w.end)) for w in windows]
    assert max(sizes[:-1]) == min(sizes[:-1]) and sizes[-1] >= sizes[0]


def test_too_many_windows_is_a_config_error(spx) -> None:
    with pytest.raises(ConfigError) as exc:
        plan_windows([spx], 3000, warmup_bars=100)
    assert exc.value.key == "arena.windows"


def test_no_trader_acts_before_its_window_and_windows_keep_separate_journals(
    tiny_arena,
) -> None:
    run = run_arena(tiny_arena)
    assert len(run.windows) == 2
    assert len({w.journal for w in run.windows}) == 2
    assert all(Path(w.journal).name.startswith(f"t-w{w.window.index}-") for w in run.windows)
    for w in run.windows:
        assert w.times[0] == w.window.start and w.times[-1] == w.window.end
        for trader in w.traders.values():
            assert trader.equity[0] == 100_000.0  # flat with its cash at the start
            assert all(t.entry_time > w.window.start for t in trader.trades)
        # every order in the window's journal was decided inside the window
        records = [json.loads(x) for x in (Path(w.journal) / "events.jsonl").open()]
        orders = [r for r in records if r["kind"] == "order"]
        assert orders and all(r["time"] >= w.window.start for r in orders)


def test_windows_override_from_the_command_line(tmp_path: Path) -> None:
    cfg = parse_arena_config(arena_raw(tmp_path), tmp_path)
    run = run_arena(cfg, windows=3)
    assert len(run.windows) == 3
    assert run.config.arena.windows == 3
