"""LLM trader speed: local decision latency and how much faster a cached replay is.

Run with ``pytest benchmarks/bench_llm.py -m bench -s`` (excluded from the default suite; needs
llama-cpp-python and the packaged Gemma 3 270M model). Figures go to stdout and into
``.benchmarks/llm.json``.

* Latency: p50/p95 of one schema-constrained decision of the local model on this CPU, over real
  prompts built at different bars of the S&P 500 file (the model is loaded beforehand).
* Replay: the same LLM session run live, then again from the cache; the issue's target is a
  replay at least 1000 times faster than the live run over the same bars.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest

from papertape.engine.config import parse_config
from papertape.engine.feeds.loader import load_bars
from papertape.engine.market import ReplayHistory
from papertape.engine.portfolio import Portfolio, PortfolioView
from papertape.engine.session import run_session
from papertape.engine.snapshot import Snapshot
from papertape.plugins.llm.prompt import PromptSettings, build_prompt
from papertape.plugins.llm.providers import LocalProvider
from papertape.plugins.llm.providers.base import LlmRequest
from papertape.plugins.llm.providers.local import load_llama, model_path
from papertape.plugins.llm.schema import decision_schema
from papertape.plugins.llm.stats import percentile

pytest.importorskip("llama_cpp", reason="needs llama-cpp-python")
pytestmark = pytest.mark.bench

ROOT = Path(__file__).resolve().parents[1]
SP500 = ROOT / "papertape" / "engine" / "data" / "sp500_daily.csv"
OUT = ROOT / ".benchmarks" / "llm.json"


def _save(name: str, figures: dict[str, Any]) -> None:
    OUT.parent.mkdir(exist_ok=True)
    data = json.loads(OUT.read_text()) if OUT.exists() else {}
    data[name] = figures
    OUT.write_text(json.dumps(data, indent=2))
    print(name, json.dumps(figures, indent=2))


@pytest.fixture(scope="module", autouse=True)
def _loaded_model() -> None:
    load_llama(model_path(""), 4096, 0)


def test_local_decision_latency() -> None:
    spx = load_bars(SP500, symbol="SPX")
    history = ReplayHistory(spx)
    provider = LocalProvider()
    settings = PromptSettings()
    latencies = []
    for k in range(300, 5000, 470):  # 10 decisions spread over 20 years
        snap = Snapshot(
            int(spx.time[k - 1]), "SPX", float(spx.close[k - 1]), (k,), ("SPX",), (history,), 0
        )
        prompt = build_prompt(
            snap, PortfolioView(Portfolio("b", 1e5), {"SPX": snap.price}), settings
        )
        request = LlmRequest(prompt.system, prompt.user, decision_schema())
        started = time.perf_counter()
        asyncio.run(provider.complete(request))
        latencies.append(time.perf_counter() - started)
    figures = {
        "decisions": len(latencies),
        "p50_s": round(percentile(latencies, 50) or 0.0, 3),
        "p95_s": round(percentile(latencies, 95) or 0.0, 3),
        "max_s": round(max(latencies), 3),
    }
    _save("local_latency", figures)
    assert figures["p50_s"] < 30.0  # a sanity bound; the figure itself is the result


def test_cached_replay_is_at_least_1000x_faster(tmp_path: Path) -> None:
    data = tmp_path / "spx_500.csv"
    data.write_text("\n".join(SP500.read_text().splitlines()[:501]) + "\n")
    config = parse_config(
        {
            "run": {"name": "bench-llm"},
            "data": [{"path": str(data), "symbol": "SPX"}],
            "strategies": [
                {
                    "name": "llm_trader",
                    "id": "llm",
                    "params": {
                        "provider": "local",
                        "every": 25,
                        "warmup": 50,
                        "timeout": 600.0,
                        "cache_dir": str(tmp_path / "cache"),
                    },
                }
            ],
            "journal": {"dir": str(tmp_path / "journals")},
            "plugins": {"entry_points": False},
        }
    )

    live = run_session(config)
    replays = [run_session(config) for _ in range(5)]
    replay_s = min(r.seconds for r in replays)
    figures = {
        "bars": live.bars,
        "decisions": live.strategies["llm"].stats["decisions"],
        "live_calls": live.strategies["llm"].stats["llm_calls"],
        "replay_calls": replays[0].strategies["llm"].stats["llm_calls"],
        "live_s": round(live.seconds, 3),
        "replay_s": round(replay_s, 5),
        "speedup": round(live.seconds / replay_s),
    }
    _save("cache_replay", figures)
    assert figures["replay_calls"] == 0
    assert figures["speedup"] >= 1000
