"""Both tapes use the core's window: every strategy is fed the warm-up bars, none trades on them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from papertape.arena import parse_arena_config, run_arena
from tests.arena.conftest import RuleModel, arena_raw, llm_entry

COUNTER = '''
from papertape import Signal, Strategy


class BarCounter(Strategy):
    """Counts the bars it is asked about; asks for a long on the first one only."""

    name = "bar_counter"

    def on_start(self, ctx):
        self.trade_from = ctx.trade_from
        self.seen = []

    def on_bar(self, snap, portfolio):
        self.seen.append(int(snap.time))
        return Signal.long("first bar") if len(self.seen) == 1 else None

    def stats(self):
        return {"first": self.seen[0], "bars": len(self.seen), "trade_from": self.trade_from}
'''


@pytest.fixture
def counter_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "drop_in"
    folder.mkdir()
    (folder / "bar_counter.py").write_text(COUNTER)
    return folder


def test_every_strategy_sees_the_warm_up_on_both_tapes_and_trades_only_in_its_window(
    tmp_path: Path, counter_dir: Path
) -> None:
    strategies = [{"name": "bar_counter", "id": "counter"}]
    raw = arena_raw(tmp_path / "j", strategies=strategies, blind="both", baselines=["always_flat"])
    raw["plugins"]["strategy_dirs"] = [str(counter_dir)]
    run = run_arena(parse_arena_config(raw, tmp_path))
    assert len(run.windows) == 4
    for w in run.windows:
        counter = w.traders["counter"]
        bars = w.series[next(iter(w.series))]
        first = int(np.searchsorted(bars.time, w.window.start))
        assert first == 100  # the window's bars come after warmup_bars of history
        assert counter.stats["trade_from"] == w.window.start
        assert counter.stats["first"] == int(bars.time[0]) < w.window.start
        assert counter.stats["bars"] == len(bars)  # warm-up bars included
        # its only signal came in the warm-up: dropped, so it never trades
        assert counter.fills == () and counter.equity[-1] == 100_000.0
        # the journal records the window the core cut (the blind one in blind time)
        config = json.loads((Path(str(w.journal)) / "config.json").read_text())
        assert config["run"]["warmup_bars"] == 100
        assert np.datetime64(config["run"]["start"], "ns").astype(np.int64) == w.window.start


def _decision_bars(run_window_bars: np.ndarray, start: int, every: int, warmup: int) -> int:
    """How many bars of the window are on the LLM trader's schedule (bars counted from 1)."""
    n = np.arange(1, len(run_window_bars) + 1)
    due = (n >= warmup) & ((n - warmup) % every == 0)
    return int(np.sum(due & (run_window_bars >= start)))


@pytest.mark.parametrize("blind", [False, True])
def test_the_llm_trader_asks_no_model_about_a_warm_up_bar(
    tmp_path: Path, rule_model: RuleModel, blind: bool
) -> None:
    entry = llm_entry("llm", rule_model.url, tmp_path / "cache", every=7, warmup=10)
    raw = arena_raw(tmp_path / "j", strategies=[entry], blind=blind, baselines=[])
    run = run_arena(parse_arena_config(raw, tmp_path))
    asked = 0
    for w in run.windows:
        bars = w.series[next(iter(w.series))]
        decisions = w.traders["llm"].decisions
        assert decisions and all(d["time"] >= w.window.start for d in decisions)
        assert len(decisions) == _decision_bars(bars.time, w.window.start, 7, 10)
        # numbered from the window's first decision: no id was spent on a warm-up bar
        assert [d["decision_id"] for d in decisions] == [
            f"llm#{i}" for i in range(1, len(decisions) + 1)
        ]
        asked += len(decisions)
    assert len(rule_model.prompts) == asked  # one call per decision in a window, no more
    # the newest candle of every prompt is a bar of a window, never one of the warm-up
    in_windows = set()
    for w in run.windows:
        t = w.series[next(iter(w.series))].time
        inside = t[(t >= w.window.start) & (t <= w.window.end)]
        in_windows |= {str(d) for d in inside.astype("datetime64[ns]").astype("datetime64[D]")}
    for prompt in rule_model.prompts:
        days = re.findall(r"\b(\d{4}-\d{2}-\d{2})\b", prompt)
        assert days and max(days) in in_windows
