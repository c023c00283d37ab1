from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from papertape.arena import parse_arena_config, run_arena
from papertape.arena.blind import BLIND_YEAR, blind_series
from papertape.arena.leaderboard import build_leaderboard
from papertape.engine.feeds.loader import load_bars
from tests.arena.conftest import SP500, arena_raw, llm_entry


@pytest.fixture(scope="module")
def spx():
    return load_bars(SP500, symbol="SPX")


def _weekday(ns: int) -> int:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).weekday()


def test_blind_tape_is_rebased_shifted_renamed_and_otherwise_the_same(spx) -> None:
    tape = blind_series([spx])
    (b,) = tape.series
    assert b.symbol == "ASSET" and tape.aliases == {"SPX": "ASSET"}
    assert b.close[0] == pytest.approx(100.0)
    k = 100.0 / spx.close[0]
    for col in ("open", "high", "low", "close"):
        np.testing.assert_allclose(getattr(b, col), getattr(spx, col) * k, rtol=1e-12)
    np.testing.assert_array_equal(b.volume, spx.volume)
    np.testing.assert_array_equal(np.diff(b.time), np.diff(spx.time))  # spacing kept
    assert tape.shift_ns % (7 * 86_400 * 10**9) == 0
    assert _weekday(int(b.time[0])) == _weekday(int(spx.time[0]))
    assert datetime.fromtimestamp(b.time[0] / 1e9, tz=UTC).year == BLIND_YEAR


def test_several_symbols_get_numbered_aliases(spx) -> None:
    other = load_bars(SP500, symbol="SPY")
    tape = blind_series([spx, other])
    assert [s.symbol for s in tape.series] == ["ASSET1", "ASSET2"]


def test_scale_free_traders_trade_identically_blind(tmp_path: Path) -> None:
    cfg = parse_arena_config(arena_raw(tmp_path, blind="both"), tmp_path)
    run = run_arena(cfg)
    real, blind = run.variant(False), run.variant(True)
    assert len(real) == len(blind) == 2
    for a, b in zip(real, blind, strict=True):
        assert a.journal != b.journal
        for tid in a.traders:
            np.testing.assert_allclose(a.traders[tid].equity, b.traders[tid].equity, rtol=1e-9)
            assert len(a.traders[tid].trades) == len(b.traders[tid].trades)
    boards = [build_leaderboard(run, False), build_leaderboard(run, True)]
    assert [r["trader"] for r in boards[0]["rows"]] == [r["trader"] for r in boards[1]["rows"]]


def test_no_prompt_names_the_ticker_a_real_date_or_a_real_price(tmp_path: Path, rule_model) -> None:
    entry = llm_entry("llm", rule_model.url, tmp_path / "cache", every=20, warmup=20)
    cfg = parse_arena_config(
        arena_raw(tmp_path, strategies=[entry], blind=True, warmup_bars=250), tmp_path
    )
    run = run_arena(cfg)
    assert len(rule_model.prompts) >= 20
    assert sum(len(w.traders["llm"].decisions) for w in run.windows) == len(rule_model.prompts)
    for prompt in rule_model.prompts:
        assert "SPX" not in prompt and "ASSET" in prompt
        years = {int(y) for y in re.findall(r"\b(\d{4})-\d{2}-\d{2}\b", prompt)}
        assert years and all(y >= BLIND_YEAR for y in years), years
        # S&P 500 closes in 2015-2017 were 1,800-2,700; rebased they stay within ~100-200
        closes = re.search(r"oldest first\): ([\d. ]+)", prompt)
        assert closes is not None
        assert all(50 < float(x) < 400 for x in closes.group(1).split())


def test_the_real_tape_prompts_do_name_the_ticker(tmp_path: Path, rule_model) -> None:
    entry = llm_entry("llm", rule_model.url, tmp_path / "cache", every=60, warmup=20)
    cfg = parse_arena_config(arena_raw(tmp_path, strategies=[entry]), tmp_path)
    run_arena(cfg)
    assert rule_model.prompts and all("SPX" in p for p in rule_model.prompts)
    assert any("2016-" in p for p in rule_model.prompts)
