"""The switcher on recorded decisions: a known best model wins, without flapping; a rule
decides when every model is down."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from papertape.engine.cli.report import result_json
from papertape.engine.errors import ConfigError
from papertape.plugins.llm.schema import Action
from papertape.plugins.llm.switcher import ModelBook, ModelRouter
from tests.plugins.llm.conftest import Reply, Seen, WireServer, _free_port, body, run_llm
from tests.plugins.llm.test_llm_openai import CHAT, KEY_ENV, SECRET

ADVICE = {"good": "BUY", "bad": "SELL"}  # in a rising market, long wins and short loses


def uptrend(tmp_path: Path, n: int = 200) -> Path:
    """A rising daily series with noise (so risk-adjusted scores are finite)."""
    rng = np.random.default_rng(3)
    close = 100.0 * np.exp(np.cumsum(0.003 + 0.01 * rng.standard_normal(n)))
    lines = ["timestamp,open,high,low,close,volume"]
    day = date(2020, 1, 1)
    for i, c in enumerate(close):
        o = close[i - 1] if i else c
        hi, lo = max(o, c) * 1.002, min(o, c) * 0.998
        lines.append(f"{day + timedelta(days=i)},{o:.4f},{hi:.4f},{lo:.4f},{c:.4f},1000")
    path = tmp_path / "up.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def recorded(seen: Seen) -> Reply:
    """The recorded chat completion, with each model's own advice."""
    reply = body("openai_chat.json")
    action = ADVICE[seen.json["model"]]
    content = json.loads(reply["choices"][0]["message"]["content"])
    content.update(action=action, size=0.5, stop_loss_pct=None, take_profit_pct=None)
    reply["choices"][0]["message"]["content"] = json.dumps(content)
    return Reply(200, reply)


def switcher(models: list[Any], tmp_path: Path, **params: Any) -> dict[str, Any]:
    return {
        "name": "llm_switcher",
        "id": "sw",
        "params": {"models": models, "every": 5, "warmup": 50, "window": 10, "min_eval": 3,
                   "hysteresis": 0.2, "allow_short": True, "decide_on": "",
                   "cache_dir": str(tmp_path / "c"), "max_retries": 0, **params},
    }  # fmt: skip


def test_the_switcher_moves_to_the_known_best_model_once(
    wire: WireServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(KEY_ENV, SECRET)
    wire.on(CHAT, recorded)
    url = f"{wire.url}/v1"
    models = [
        {"provider": "openai", "model": "bad", "base_url": url, "api_key_env": KEY_ENV},
        {"provider": "openai", "model": "good", "base_url": url, "api_key_env": KEY_ENV},
    ]
    data = uptrend(tmp_path)

    result, records = run_llm(data, tmp_path / "j", switcher(models, tmp_path))
    replay, _ = run_llm(data, tmp_path / "j", switcher(models, tmp_path))

    routed = [r["model"] for r in records if r["kind"] == "llm_decision"]
    assert len(routed) == 31  # bars 50, 55, ..., 200
    assert routed[:4] == ["bad"] * 4  # no model has min_eval marks yet: the first one trades
    switched_at = routed.index("good")
    assert routed[switched_at:] == ["good"] * (len(routed) - switched_at)  # no flapping
    assert 3 <= switched_at <= 10  # after the minimum evaluation period
    last = [r for r in records if r["kind"] == "llm_decision"][-1]
    assert "routed to openai:good" in last["detail"] and "openai:bad -" in last["detail"]
    assert result.strategies["sw"].stats["llm_calls"] == 62  # every model, every decision
    assert result.strategies["sw"].metrics.total_return > 0
    assert replay.journal_path is not None and result.journal_path is not None
    assert replay.journal_path.read_bytes() == result.journal_path.read_bytes()
    assert result_json(replay)["strategies"]["sw"]["stats"]["llm_calls"] == 0


def test_a_rule_decides_when_every_model_is_down(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{_free_port()}/v1"
    models = [
        {"provider": "openai", "model": "a", "base_url": dead, "api_key_env": ""},
        {"provider": "openai", "model": "b", "base_url": dead, "api_key_env": ""},
    ]

    _, records = run_llm(uptrend(tmp_path), tmp_path / "j", switcher(models, tmp_path, cache="off"))

    got = [r for r in records if r["kind"] == "llm_decision"]
    assert {d["reason_code"] for d in got} == {"rule_based"}
    assert got[0]["action"] == "BUY" and "every model is down" in got[0]["decision"]["reasoning"]
    assert "no model answered (provider_error)" in got[0]["detail"]
    assert any(r["kind"] == "fill" for r in records)


def test_hysteresis_keeps_a_close_second_from_taking_over() -> None:
    def run(hysteresis: float) -> ModelRouter:
        router = ModelRouter(["a", "b"], window=10, min_eval=2, hysteresis=hysteresis)
        price = 100.0
        for i, m in enumerate([0.010, 0.012, 0.008, 0.011, 0.009, 0.010]):
            price *= 1 + m
            for label, book in router.books.items():
                book.mark(price * (1.0005**i if label == "b" else 1.0))  # b a hair better
                book.follow(Action.BUY, allow_short=False)
            router.route()
        return router

    close = run(hysteresis=5.0)
    assert close.books["b"].score() > close.books["a"].score()
    assert close.incumbent == "a"  # within the hysteresis: no switch
    assert run(hysteresis=0.0).incumbent == "b"
    book = ModelBook(window=3)
    for price in (100.0, 101.0, 102.0, 101.0, 103.0, 104.0):
        book.mark(price)
        book.follow(Action.SELL, allow_short=True)
    assert len(book.returns) == 3 and book.score() < 0.0  # short in a rising market loses


def test_the_switcher_needs_two_models(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="two or more"):
        run_llm(uptrend(tmp_path), tmp_path / "j", switcher(["local"], tmp_path))


ARENA = Path(__file__).resolve().parents[3] / "configs" / "arena-models.toml"


def test_the_model_arena_config_builds_every_kind_of_trader(
    wire: WireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from papertape.engine.config import load_config
    from papertape.engine.session import build_engine

    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("DEEPSEEK_API_KEY", SECRET)

    engine, _ = build_engine(load_config(ARENA), journal=False)

    kinds = {s.strategy.name for s in engine.slots}
    assert kinds == {"llm_trader", "llm_switcher", "llm_multi_agent", "sma_cross"}
    providers = {s.strategy.p.provider for s in engine.slots if s.strategy.name == "llm_trader"}
    assert providers == {"openai", "anthropic", "ollama", "local"}
    monkeypatch.delenv("DEEPSEEK_API_KEY")
    with pytest.raises(ConfigError, match="DEEPSEEK_API_KEY"):
        build_engine(load_config(ARENA), journal=False)
