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


KEYED = '''
import os

from papertape import Strategy


class NewsDesk(Strategy):
    """Needs a key of its own; its name says nothing about it."""

    name = "news_desk"
    defaults = {"key_env": "PT_TEST_NEWS_KEY"}

    @classmethod
    def unreachable(cls, params):
        env = params.get("key_env", cls.defaults["key_env"])
        return "" if os.environ.get(env) else f"{env} is not set"

    def on_bar(self, snap, portfolio):
        return None
'''


def test_a_strategy_says_itself_that_it_needs_a_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "drop_in"
    folder.mkdir()
    (folder / "news_desk.py").write_text(KEYED)
    monkeypatch.delenv("PT_TEST_NEWS_KEY", raising=False)
    strategies = [
        {"name": "news_desk", "id": "news"},
        {"name": "sma_cross", "id": "sma", "params": {"fast": 10, "slow": 40}},
    ]
    raw = arena_raw(tmp_path, strategies=strategies, baselines=["always_flat"])
    raw["plugins"]["strategy_dirs"] = [str(folder)]
    run = run_arena(parse_arena_config(raw, tmp_path))
    assert run.skipped == (("news", "PT_TEST_NEWS_KEY is not set"),)
    assert run.contestants == ("sma",)

    monkeypatch.setenv("PT_TEST_NEWS_KEY", "k")
    run = run_arena(parse_arena_config(raw, tmp_path))
    assert run.skipped == () and run.contestants == ("news", "sma")


def test_a_fallback_chain_is_skipped_only_when_no_model_of_it_is_reachable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("PT_TEST_OPENAI_KEY", raising=False)
    keyed = {"provider": "openai", "model": "gpt-x", "api_key_env": "PT_TEST_OPENAI_KEY"}
    strategies = [
        _keyless("dead", "local", models=["anthropic:claude-x", keyed]),
        _keyless("alive", "local", models=["anthropic:claude-x", "ollama:llama3.2"]),
    ]
    raw = arena_raw(tmp_path, strategies=strategies, baselines=["always_flat"])
    config = parse_arena_config(raw, tmp_path)
    from papertape.arena.runner import _without_unreachable

    kept, skipped = _without_unreachable(config)
    assert skipped == (
        (
            "dead",
            "anthropic: ANTHROPIC_API_KEY is not set; openai: PT_TEST_OPENAI_KEY is not set",
        ),
    )
    assert [s.slot_id for s in kept.run.strategies] == ["alive"]


def test_the_strategy_contract_can_run_by_default() -> None:
    from papertape.engine.strategy import Strategy
    from papertape.strategies.sma_cross import SmaCross

    assert Strategy.unreachable({}) == "" and SmaCross.unreachable({"fast": 3}) == ""


def test_a_desk_needs_every_roles_model_and_a_switcher_one_of_its_models(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from papertape.plugins.llm.multi_agent import MultiAgentTrader
    from papertape.plugins.llm.switcher import SwitcherTrader

    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    desk = {"provider": "ollama", "role_models": {"risk_manager": "anthropic:claude-x"}}
    assert MultiAgentTrader.unreachable(desk) == "anthropic: ANTHROPIC_API_KEY is not set"
    assert MultiAgentTrader.unreachable({"provider": "ollama"}) == ""
    assert SwitcherTrader.unreachable({"models": ["anthropic:claude-x", "local"]}) == ""
    assert SwitcherTrader.unreachable({"models": ["anthropic:a", "anthropic:b"]}) == (
        "anthropic: ANTHROPIC_API_KEY is not set"
    )
    # a role the desk does not ask (no "regime" analyst here) needs no key
    unused = {"provider": "ollama", "role_models": {"regime": "anthropic:claude-x"}}
    assert MultiAgentTrader.unreachable(unused) == ""


def test_an_ensemble_with_a_member_that_cannot_run_is_skipped_and_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    members = "sma_cross:fast=10,slow=40@1; llm_trader:provider=anthropic,model=claude-x@1"
    strategies = [
        {"name": "ensemble", "id": "vote", "params": {"members": members}},
        {"name": "sma_cross", "id": "sma", "params": {"fast": 10, "slow": 40}},
    ]
    raw = arena_raw(tmp_path, strategies=strategies, baselines=["always_flat"])
    run = run_arena(parse_arena_config(raw, tmp_path))
    assert run.skipped == (("vote", "member llm_trader: anthropic: ANTHROPIC_API_KEY is not set"),)
    assert run.contestants == ("sma",)
