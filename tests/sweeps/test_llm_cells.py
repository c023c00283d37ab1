"""LLM traders in a sweep share one on-disk decision cache across worker processes.

The model is a loopback Ollama server in this test process (``tests/arena/conftest.py``): every
worker process asks it over HTTP, so the prompts it records count the model calls of all
workers together.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from papertape.engine.bench import synthetic_series
from papertape.engine.cli.main import main
from papertape.engine.config import RunConfig, parse_config
from papertape.plugins.llm.cache import ResponseCache
from papertape.plugins.llm.trader import CACHE_ENV
from papertape.sweeps import SweepSpec, parse_sweep, run_sweep
from papertape.sweeps.executors import Tapes, llm_cache_dir, run_tasks
from papertape.sweeps.shared import share_series
from tests.arena.conftest import SP500, RuleModel, _handler, serve_rule_model


@pytest.fixture
def model() -> Iterator[RuleModel]:
    """The loopback rule model (buys when flat, holds when long)."""
    yield from serve_rule_model()


@pytest.fixture
def llm_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The LLM cache folder every trader of the sweep uses by default (``cache_dir = ""``)."""
    folder = tmp_path / "llm-cache"
    monkeypatch.setenv(CACHE_ENV, str(folder))
    return folder


class SlowRuleModel(RuleModel):
    """The rule model taking ``delay`` seconds per answer (calls in flight overlap)."""

    delay = 0.3

    def answer(self, prompt: str) -> str:
        time.sleep(self.delay)
        return super().answer(prompt)


@pytest.fixture
def slow_model() -> Iterator[RuleModel]:
    """The loopback rule model, slow enough that two workers ask the same prompt at once."""
    model = SlowRuleModel()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(model))
    httpd.daemon_threads = True
    model.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield model
    httpd.shutdown()
    httpd.server_close()


def _sweep(tmp_path: Path, model: RuleModel) -> tuple[RunConfig, SweepSpec]:
    lines = SP500.read_text().splitlines()
    data = tmp_path / "spx.csv"
    data.write_text("\n".join(lines[:321]) + "\n")  # 320 daily bars
    trader = {
        "provider": "ollama",
        "model": "rule",
        "host": model.url,
        "warmup": 60,
        "decide_on": "",
        "max_output_tokens": 120,
    }
    base = parse_config(
        {
            "run": {"name": "llm-sweep", "seed": 3, "initial_cash": 100_000.0},
            "data": [{"path": str(data), "symbol": "SPX"}],
            "execution": {"taker_bps": 5.0},
            "strategies": [{"name": "llm_trader", "id": "llm", "params": trader}],
            "plugins": {"entry_points": False},
        },
        tmp_path,
    )
    # every=20 and every=40 ask the same prompts on their common bars; min_confidence 0.8
    # never acts on the model's 0.7 BUY, so its prompts stay flat ones
    spec = parse_sweep({"params": {"every": [20, 40], "min_confidence": [0.0, 0.8]}}, base)
    return base, spec


def test_a_second_run_on_two_workers_makes_no_model_call(
    tmp_path: Path, model: RuleModel, llm_cache: Path
) -> None:
    base, spec = _sweep(tmp_path, model)

    cold = run_sweep(base, spec, workers=2, folder=tmp_path / "cold")
    calls = len(model.prompts)
    warm = run_sweep(base, spec, workers=2, folder=tmp_path / "warm")

    assert cold.ran == warm.ran == 4  # a fresh sweep folder: every cell runs again
    assert len(model.prompts) == calls  # the second run asked the model nothing
    used = warm.llm_usage
    assert used["llm_calls"] == 0
    assert used["cache_hits"] == used["decisions"] == cold.llm_usage["decisions"]
    assert warm.table().encode() == cold.table().encode()
    # one on-disk cache for both workers: every distinct prompt stored once, in one folder
    entries = len(ResponseCache(llm_cache))
    assert entries == len(set(model.prompts)) >= 4
    # the cells share prompts: fewer calls than decisions (later cells hit earlier ones)
    assert cold.llm_usage["llm_calls"] == calls < cold.llm_usage["decisions"]
    assert {r.metrics["total_return"] == 0.0 for r in cold.results} == {True, False}  # 0.8: flat


def test_two_workers_asking_the_same_prompt_at_once_make_one_call(
    tmp_path: Path, slow_model: RuleModel, llm_cache: Path
) -> None:
    base, _ = _sweep(tmp_path, slow_model)
    # neither cell ever acts on the model's 0.7 BUY: both ask the same prompts, side by side
    spec = parse_sweep({"params": {"every": [20], "min_confidence": [0.8, 0.9]}}, base)

    cold = run_sweep(base, spec, workers=2, folder=tmp_path / "cold")

    prompts = slow_model.prompts
    assert len(prompts) == len(set(prompts)) >= 10  # each prompt asked once, by one worker
    used = cold.llm_usage
    assert used["decisions"] == 2 * len(prompts)
    assert used["llm_calls"] == len(prompts) and used["cache_hits"] == len(prompts)
    assert not list(llm_cache.glob("*/*.claim"))  # every claim released


def test_ray_local_replays_the_cache_of_a_pool_run(
    tmp_path: Path, model: RuleModel, llm_cache: Path
) -> None:
    base, spec = _sweep(tmp_path, model)
    pool = run_sweep(base, spec, workers=2, folder=tmp_path / "pool")
    calls = len(model.prompts)

    on_ray = run_sweep(base, spec, ray="auto", folder=tmp_path / "ray")

    assert calls > 0 and len(model.prompts) == calls
    assert on_ray.llm_usage["llm_calls"] == 0 and on_ray.llm_usage["cache_hits"] > 0
    assert on_ray.table().encode() == pool.table().encode()


def _cache_seen(task: int, tapes: Tapes) -> tuple[int, str, int]:
    return task, os.environ[CACHE_ENV], len(tapes["data"])


def test_workers_use_the_parents_cache_folder_wherever_they_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    tape = share_series([synthetic_series("SYN", 50, seed=1)], tmp_path / "s")

    seen = sorted(r for _, r in run_tasks(_cache_seen, [1, 2, 3], {"data": tape}, workers=2))

    expected = str(tmp_path.resolve() / "journals" / "llm-cache")
    assert seen == [(1, expected, 1), (2, expected, 1), (3, expected, 1)]
    assert llm_cache_dir() == expected


def test_the_command_says_how_many_model_calls_a_sweep_made(
    tmp_path: Path, model: RuleModel, llm_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "spx.csv"
    data.write_text("\n".join(SP500.read_text().splitlines()[:201]) + "\n")
    cfg = tmp_path / "llm-sweep.toml"
    cfg.write_text(
        f"""
[run]
name = "llm-cli"
[[data]]
path = "{data}"
symbol = "SPX"
[[strategies]]
name = "llm_trader"
id = "llm"
[strategies.params]
provider = "ollama"
model = "rule"
host = "{model.url}"
warmup = 60
decide_on = ""
[plugins]
entry_points = false
[sweep.params]
every = [20, 30]
"""
    )
    argv = ["sweep", str(cfg), "--workers", "2", "--no-progress"]

    assert main([*argv, "--json", "--out", str(tmp_path / "a")]) == 0
    cold = json.loads(capsys.readouterr().out)["llm_usage"]
    assert main([*argv, "--out", str(tmp_path / "b")]) == 0
    text = capsys.readouterr().out

    assert cold["llm_calls"] == len(model.prompts) > 0
    n = cold["decisions"]
    assert f"LLM: {n} decisions, 0 model calls, {n} answered from the cache" in text
    assert str(llm_cache) in text
