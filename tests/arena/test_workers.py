"""Arena windows on the sweep executor: the same bytes at any worker count or backend."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from papertape.arena import parse_arena_config, run_arena, summary
from papertape.engine.cli.main import main
from papertape.engine.errors import ConfigError
from papertape.plugins.llm.trader import CACHE_ENV
from tests.arena.conftest import RuleModel, arena_raw, serve_rule_model
from tests.arena.test_cli import _toml

THREE_YEARS = [
    {"start": "2015-01-01", "end": "2015-12-31"},
    {"start": "2016-01-01", "end": "2016-12-31"},
    {"start": "2017-01-01", "end": "2017-12-31"},
]


def _outputs(journals: Path, arena_id: str) -> dict[str, bytes]:
    """``arena.json`` and every window journal's events and config, by path."""
    doc = journals / arena_id / "arena.json"
    out = {"arena.json": doc.read_bytes()}
    for path in json.loads(doc.read_bytes())["summary"]["journals"]:
        for name in ("events.jsonl", "config.json"):
            out[f"{Path(path).name}/{name}"] = (Path(path) / name).read_bytes()
    return out


def test_one_and_two_workers_write_the_same_bytes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    journals = tmp_path / "journals"
    raw = arena_raw(journals, windows=THREE_YEARS, blind="both")
    config = _toml(raw, tmp_path / "arena.toml")

    assert main(["arena", str(config), "--json", "--workers", "1"]) == 0
    one_summary = capsys.readouterr().out
    arena_id = json.loads(one_summary)["arena_id"]
    one = _outputs(journals, arena_id)
    assert main(["arena", str(config), "--json", "--workers", "2"]) == 0
    two_summary = capsys.readouterr().out
    two = _outputs(journals, arena_id)

    assert two_summary == one_summary
    assert len(one) == 1 + 2 * 6  # three windows, real and blind, each with its journal
    assert two == one
    board = json.loads(one_summary)["leaderboards"]["real"]
    assert len({r["total_return"] for r in board["rows"]}) > 2  # traders really differ


def test_ray_local_gives_the_same_leaderboard(tmp_path: Path) -> None:
    raw = arena_raw(tmp_path / "journals", windows=THREE_YEARS[:2], blind="both")
    here = run_arena(parse_arena_config(raw, tmp_path))
    on_ray = run_arena(parse_arena_config(raw, tmp_path), ray="auto")
    assert json.dumps(summary(on_ray)) == json.dumps(summary(here))
    assert [(w.window, w.blind) for w in on_ray.windows] == [
        (w.window, w.blind) for w in here.windows
    ]
    assert len(on_ray.windows) == 4 and summary(on_ray)["blinding"] is not None


@pytest.fixture
def model() -> Iterator[RuleModel]:
    """The loopback rule model (buys when flat, holds when long)."""
    yield from serve_rule_model()


def test_llm_windows_on_two_workers_share_one_cache(
    tmp_path: Path, model: RuleModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "llm-cache"))
    llm = {
        "name": "llm_trader",
        "id": "rule",
        "params": {"provider": "ollama", "model": "rule", "host": model.url, "every": 20},
    }
    raw = arena_raw(tmp_path / "journals", strategies=[llm], windows=THREE_YEARS)

    cold = run_arena(parse_arena_config(raw, tmp_path), workers=2)
    calls = len(model.prompts)
    warm = run_arena(parse_arena_config(raw, tmp_path), workers=2)
    inline = run_arena(parse_arena_config(raw, tmp_path))

    stats = [w.traders["rule"].stats for w in warm.windows]
    assert calls >= 3 and len(model.prompts) == calls  # the re-runs asked the model nothing
    assert sum(s["llm_calls"] for s in stats) == 0
    assert sum(s["cache_hits"] for s in stats) == sum(
        w.traders["rule"].stats["llm_calls"] for w in cold.windows
    )
    assert json.dumps(summary(warm)) == json.dumps(summary(cold)) == json.dumps(summary(inline))


def test_workers_below_one_are_refused(tmp_path: Path) -> None:
    raw = arena_raw(tmp_path / "journals")
    with pytest.raises(ConfigError, match="--workers"):
        run_arena(parse_arena_config(raw, tmp_path), workers=0)
