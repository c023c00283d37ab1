"""``papertape generate`` against a loopback Ollama: validate, backtest, save only what passes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from papertape.engine.cli.main import main
from papertape.plugins.llm.cache import ResponseCache
from papertape.plugins.llm.generate import generate_strategy
from papertape.plugins.llm.providers import OllamaProvider
from tests.plugins.llm.conftest import SP500, Reply, Seen, WireServer, ollama_reply


def spec(**kw: Any) -> str:
    data = {
        "name": "sma_cross",  # clashes with the built-in: must be saved under another name
        "description": "Trend following with a 20/100 SMA cross.",
        "side": "long",
        "indicators": [
            {"name": "fast", "kind": "sma", "period": 20},
            {"name": "slow", "kind": "sma", "period": 100},
        ],
        "entry": "crosses_above(fast, slow)",
        "exit": "crosses_below(fast, slow)",
        "stop_loss_pct": 10,
        "take_profit_pct": None,
        "size": 1.0,
    }
    data.update(kw)
    return json.dumps(data)


def answers(wire: WireServer, *contents: str) -> None:
    count = [0]

    def handler(_seen: Seen) -> Reply:
        i = min(count[0], len(contents) - 1)
        count[0] += 1
        return ollama_reply(contents[i])

    wire.on("/api/chat", handler)


def run(out: Path, attempts: int = 3, cache: ResponseCache | None = None) -> Any:
    return asyncio.run(
        generate_strategy(
            OllamaProvider("llama3.2"),
            SP500,
            out_dir=out,
            attempts=attempts,
            cache=cache,
        )
    )


def test_rejected_answers_are_reported_and_fed_back_until_one_passes(
    wire: WireServer,
    tmp_path: Path,
) -> None:
    answers(
        wire,
        "Here is a great strategy: buy low, sell high!",
        spec(entry="__import__(fast) > 0"),
        spec(entry="close < 0"),
        spec(),
    )
    out = tmp_path / "strategies"

    result = run(out, attempts=4)

    codes = [a.code for a in result.attempts]
    assert codes == ["malformed_json", "invalid_spec", "no_trades", "ok"]
    assert "unknown function" in result.attempts[1].detail
    assert result.name == "gen_sma_cross"
    assert result.saved == out / "gen_sma_cross.py" and result.saved.is_file()
    assert sorted(p.name for p in out.iterdir()) == ["gen_sma_cross.py"]
    assert result.attempts[3].metrics is not None and result.attempts[3].metrics["trades"] > 3
    prompts = [s.json["messages"][1]["content"] for s in wire.requests("/api/chat")]
    assert "rejected (malformed_json)" in prompts[1]
    assert "rejected (invalid_spec)" in prompts[2]
    assert wire.requests("/api/chat")[0].json["format"]["properties"]["entry"]["type"] == "string"


def test_saved_strategy_runs_from_the_cli_and_names_do_not_collide(
    wire: WireServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    answers(wire, spec())
    out = tmp_path / "strategies"
    first, second = run(out, 1), run(out, 1)

    code = main(
        [
            "backtest",
            "--data",
            str(SP500),
            "--strategy-dir",
            str(out),
            "--strategy",
            "gen_sma_cross_2",
            "--no-journal",
            "--json",
        ]
    )

    report = json.loads(capsys.readouterr().out)["strategies"]["gen_sma_cross_2"]
    assert (first.name, second.name) == ("gen_sma_cross", "gen_sma_cross_2")
    assert code == 0 and report["errors"] == 0 and report["trades"] > 3


def test_cli_reports_every_rejection_and_saves_nothing(
    wire: WireServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    answers(wire, spec(size=3.0), spec(exit="fast >"))
    out = tmp_path / "strategies"

    code = main(
        [
            "generate",
            "--data",
            str(SP500),
            "--provider",
            "ollama",
            "--model",
            "llama3.2",
            "--attempts",
            "2",
            "--out",
            str(out),
            "--cache-dir",
            str(tmp_path / "c"),
            "--json",
        ]
    )

    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert report["saved"] is None and not out.exists()
    assert [a["code"] for a in report["attempts"]] == ["invalid_spec", "invalid_spec"]
    assert "spec.size" in report["attempts"][0]["detail"]
    assert "spec.exit" in report["attempts"][1]["detail"]


def test_generation_answers_are_cached(wire: WireServer, tmp_path: Path) -> None:
    answers(wire, spec())
    cache = ResponseCache(tmp_path / "c")
    run(tmp_path / "a", 1, cache)
    wire.on("/api/chat", Reply(500, {"error": "must not be called"}))

    again = run(tmp_path / "b", 1, cache)

    assert again.name == "gen_sma_cross" and again.stats == {"llm_calls": 0, "cache_hits": 1}
