"""Traders whose provider needs a key that is not set are left out, saying why; the rest run."""

from __future__ import annotations

from pathlib import Path

import pytest

from papertape.arena import arena_document, parse_arena_config, run_arena
from papertape.engine.errors import ConfigError
from tests.arena.conftest import arena_raw


def _keyless(sid: str, provider: str, **params: object) -> dict[str, object]:
    return {"name": "llm_trader", "id": sid, "params": {"provider": provider, **params}}


def test_traders_without_their_key_are_skipped_and_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("PT_TEST_OPENAI_KEY", raising=False)
    strategies = [
        _keyless("claude", "anthropic", model="claude-x"),
        _keyless("gpt", "openai", model="gpt-x", api_key_env="PT_TEST_OPENAI_KEY"),
        {"name": "sma_cross", "id": "sma", "params": {"fast": 10, "slow": 40}},
    ]
    raw = arena_raw(tmp_path, strategies=strategies, baselines=["always_flat"])
    run = run_arena(parse_arena_config(raw, tmp_path))
    assert run.skipped == (
        ("claude", "anthropic: ANTHROPIC_API_KEY is not set"),
        ("gpt", "openai: PT_TEST_OPENAI_KEY is not set"),
    )
    assert run.contestants == ("sma",)
    assert set(run.windows[0].traders) == {"sma", "always_flat"}
    assert arena_document(run)["summary"]["skipped"] == {
        "claude": "anthropic: ANTHROPIC_API_KEY is not set",
        "gpt": "openai: PT_TEST_OPENAI_KEY is not set",
    }


def test_an_arena_where_no_trader_can_run_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    raw = arena_raw(tmp_path, strategies=[_keyless("claude", "anthropic", model="m")])
    with pytest.raises(ConfigError, match="no trader can run here"):
        run_arena(parse_arena_config(raw, tmp_path))
