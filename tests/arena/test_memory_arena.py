"""configs/arena-memory.toml with the real shipped model: memory on one trader, not the other.

The two shipped configs run as a user runs them (memory-source first, then the arena), cut to
a small window and a sparse schedule so the local model is asked a handful of times.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from papertape.arena import parse_arena_config, run_arena
from papertape.engine.config import parse_config
from papertape.engine.journal import read_journal
from papertape.engine.session import run_session
from papertape.plugins.llm.memory import MemoryIndex

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def _toml(name: str) -> dict[str, Any]:
    return tomllib.loads((CONFIGS / name).read_text(encoding="utf-8"))


def test_the_memory_arena_compares_the_same_model_with_and_without_memory(
    tmp_path: Path,
) -> None:
    # 1. The memory: configs/memory-source.toml as shipped (rule-based, 1999-2007).
    source = _toml("memory-source.toml")
    source["journal"]["dir"] = str(tmp_path / "memory")
    run_session(parse_config(source, CONFIGS))
    index = MemoryIndex([tmp_path / "memory"])
    assert len(index) > 100 and index.skipped == {}

    # 2. The arena, one short window in 2008, a decision every 40 bars.
    raw = _toml("arena-memory.toml")
    raw["journal"]["dir"] = str(tmp_path / "journals")
    for entry in raw["strategies"]:
        entry["params"].update(every=40, cache_dir=str(tmp_path / "cache"), max_output_tokens=160)
        if "memory" in entry["params"]:
            entry["params"]["memory_from"] = [str(tmp_path / "memory")]
    raw["arena"].update(
        windows=[{"start": "2008-07-01", "end": "2008-10-31"}], warmup_bars=60, bootstrap_reps=200
    )
    run = run_arena(parse_arena_config(raw, CONFIGS))

    (window,) = run.windows
    assert {"gemma", "gemma_memory", "buy_and_hold"} <= set(window.traders)
    assert window.journal is not None
    decisions = [r for r in read_journal(window.journal) if r["kind"] == "llm_decision"]
    plain = [d for d in decisions if d["strategy"] == "gemma"]
    recalled = [d for d in decisions if d["strategy"] == "gemma_memory"]
    assert len(plain) == len(recalled) >= 2
    assert all(d["memory"] == [] for d in plain)
    by_id = {s.id: s for s in index.situations}
    for d in recalled:
        assert len(d["memory"]) == 3
        assert all(by_id[i].known <= d["time"] for i in d["memory"])
    # Same model, same bars: the memory is what makes the prompts (and cache keys) differ.
    assert [d["time"] for d in plain] == [d["time"] for d in recalled]
    assert {d["prompt_hash"] for d in plain}.isdisjoint(d["prompt_hash"] for d in recalled)
