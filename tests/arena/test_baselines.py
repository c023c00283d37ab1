from __future__ import annotations

from pathlib import Path

import numpy as np

from papertape.arena import parse_arena_config, run_arena
from papertape.arena.baselines import add_baselines
from tests.arena.conftest import arena_raw, llm_entry


def test_baselines_copy_the_reference_traders_sizer_shields_and_schedule(tmp_path: Path) -> None:
    entry = llm_entry("llm", "http://127.0.0.1:9", tmp_path, every=30, warmup=15)
    entry["shields"] = [{"name": "cooldown", "bars": 3}]
    cfg = parse_arena_config(arena_raw(tmp_path, strategies=[entry]), tmp_path)
    run = add_baselines(cfg.run, ["buy_and_hold", "always_flat", "random"], seed=11)
    ids = [s.slot_id for s in run.strategies]
    assert ids == ["llm", "buy_and_hold", "always_flat", "random"]
    rnd = run.strategies[-1]
    assert rnd.name == "random_trader"
    assert rnd.params == {"every": 30, "warmup": 15, "seed": 11, "allow_short": False}
    for s in run.strategies[1:]:
        assert s.sizer.name == "fraction" and s.sizer.params["fraction"] == 0.5
        assert [sh.name for sh in s.shields] == ["cooldown"]


def test_buy_and_hold_is_long_from_the_second_bar_and_flat_stays_flat(tiny_arena) -> None:
    run = run_arena(tiny_arena)
    for w in run.windows:
        bh, flat = w.traders["buy_and_hold"], w.traders["always_flat"]
        assert bh.side[0] == 0 and np.all(bh.side[1:] == 1)  # decided on bar 0, filled on bar 1
        assert len(bh.trades) == 0 and bh.fees > 0
        assert np.all(flat.equity == flat.equity[0]) and np.all(flat.side == 0)


def test_random_trader_is_reproducible_and_seed_dependent(tmp_path: Path) -> None:
    def equity(seed: int) -> np.ndarray:
        cfg = parse_arena_config(
            arena_raw(tmp_path / str(seed), baselines=["random"], random_seed=seed), tmp_path
        )
        return np.concatenate([w.traders["random"].equity for w in run_arena(cfg).windows])

    a, b, c = equity(1), equity(1), equity(2)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_random_trader_decides_on_the_llm_schedule(tmp_path: Path, rule_model) -> None:
    entry = llm_entry("llm", rule_model.url, tmp_path / "cache", every=40, warmup=20)
    cfg = parse_arena_config(
        arena_raw(tmp_path, strategies=[entry], baselines=["random"]), tmp_path
    )
    run = run_arena(cfg)
    for w in run.windows:
        llm_times = [d["time"] for d in w.traders["llm"].decisions]
        drawn = sum(w.traders["random"].stats["actions"].values())
        assert drawn == len(llm_times) > 0
