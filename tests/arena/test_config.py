from __future__ import annotations

from pathlib import Path

import pytest

from papertape.arena import parse_arena_config
from papertape.arena.config import BASELINES
from papertape.engine.errors import ConfigError
from tests.arena.conftest import arena_raw


def test_defaults_add_every_baseline_and_one_window(tmp_path: Path) -> None:
    raw = arena_raw(tmp_path)
    raw["arena"] = {}
    cfg = parse_arena_config(raw, tmp_path)
    assert cfg.arena.baselines == list(BASELINES)
    assert cfg.arena.windows == 1
    assert cfg.arena.blind_modes == (False,)
    assert cfg.seed == 5  # the run's seed


@pytest.mark.parametrize(
    ("arena", "key"),
    [
        ({"windows": 0}, "arena.windows"),
        ({"blind": "sometimes"}, "arena.blind"),
        ({"baselines": ["buy_and_hold", "coin_flip"]}, "arena.baselines.1"),
        ({"colour": "red"}, "arena.colour"),
        ({"alpha": 1.5}, "arena.alpha"),
        (
            {
                "windows": [
                    {"start": "2010-01-01", "end": "2011-12-31"},
                    {"start": "2011-06-01", "end": "2012-12-31"},
                ]
            },
            "arena.windows",
        ),
    ],
)
def test_bad_arena_settings_name_the_key(tmp_path: Path, arena: dict, key: str) -> None:
    raw = arena_raw(tmp_path)
    raw["arena"] = arena
    with pytest.raises(ConfigError) as exc:
        parse_arena_config(raw, tmp_path)
    assert exc.value.key == key


def test_baselines_switch_off_and_blind_both(tmp_path: Path) -> None:
    cfg = parse_arena_config(arena_raw(tmp_path, baselines=False, blind="both"), tmp_path)
    assert cfg.arena.baselines == []
    assert cfg.arena.blind_modes == (False, True)


def test_a_strategy_may_not_take_a_baselines_id(tmp_path: Path) -> None:
    raw = arena_raw(tmp_path, strategies=[{"name": "sma_cross", "id": "buy_and_hold"}])
    with pytest.raises(ConfigError) as exc:
        parse_arena_config(raw, tmp_path)
    assert exc.value.key == "arena.baselines"


def test_the_shipped_arena_config_is_valid() -> None:
    from papertape.arena import load_arena_config

    cfg = load_arena_config(Path(__file__).resolve().parents[2] / "configs" / "arena.toml")
    llm = [s for s in cfg.run.strategies if s.name == "llm_trader"]
    rules = [s for s in cfg.run.strategies if s.name != "llm_trader"]
    assert len(llm) == 2 and {s.params["persona"] for s in llm} == {"conservative", "aggressive"}
    assert len(rules) == 2
    assert isinstance(cfg.arena.windows, list) and len(cfg.arena.windows) >= 3
    assert cfg.arena.baselines == list(BASELINES)
