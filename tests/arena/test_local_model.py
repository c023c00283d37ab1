"""The arena with the real shipped model: a warm re-run reproduces the leaderboard exactly."""

from __future__ import annotations

import json
from pathlib import Path

from papertape.arena import parse_arena_config, run_arena, summary
from tests.arena.conftest import arena_raw


def test_warm_cache_rerun_with_the_local_model_is_byte_identical(tmp_path: Path) -> None:
    entry = {
        "name": "llm_trader",
        "id": "gemma",
        "params": {
            "provider": "local",
            "every": 40,
            "warmup": 50,
            "decide_on": "",
            "cache_dir": str(tmp_path / "cache"),
            "max_output_tokens": 160,
        },
    }
    raw = arena_raw(
        tmp_path,
        strategies=[entry],
        windows=[{"start": "2018-07-01", "end": "2018-10-31"}],
        warmup_bars=60,
    )
    cold = run_arena(parse_arena_config(raw, tmp_path))
    stats = cold.windows[0].traders["gemma"].stats
    assert stats["llm_calls"] == stats["decisions"] >= 2
    warm = run_arena(parse_arena_config(raw, tmp_path))
    wstats = warm.windows[0].traders["gemma"].stats
    assert wstats["llm_calls"] == 0 and wstats["cache_hits"] == stats["decisions"]
    assert json.dumps(summary(cold)) == json.dumps(summary(warm))
