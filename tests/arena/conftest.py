"""Fixtures of the arena tests: tiny arena configs on the shipped S&P 500 data, and a loopback
Ollama server that decides by a fixed rule and records every prompt it was shown."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from papertape.arena import ArenaConfig, parse_arena_config

SP500 = Path(__file__).resolve().parents[2] / "papertape" / "engine" / "data" / "sp500_daily.csv"


class RuleModel:
    """An Ollama ``/api/chat`` server whose 'model' buys when flat and holds when long.

    Confidence is 0.7 for BUY and 0.6 for HOLD. Every prompt is kept in ``prompts``.
    """

    def __init__(self) -> None:
        self.prompts: list[str] = []
        self.lock = threading.Lock()
        self.url = ""

    def answer(self, prompt: str) -> str:
        flat = "No open positions." in prompt
        decision = {
            "reasoning": "flat, so buy" if flat else "long already, hold",
            "action": "BUY" if flat else "HOLD",
            "size": 0.5 if flat else 0.0,
            "confidence": 0.7 if flat else 0.6,
            "stop_loss_pct": None,
            "take_profit_pct": None,
        }
        return json.dumps(decision)


def _handler(model: RuleModel) -> type[BaseHTTPRequestHandler]:
    class H(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            payload = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
            text = "\n".join(m["content"] for m in payload["messages"])
            with model.lock:
                model.prompts.append(text)
            body = json.dumps(
                {
                    "model": payload["model"],
                    "created_at": "2025-06-02T09:14:51Z",
                    "message": {"role": "assistant", "content": model.answer(text)},
                    "done_reason": "stop",
                    "done": True,
                    "prompt_eval_count": 600,
                    "eval_count": 50,
                }
            ).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return H


@pytest.fixture
def rule_model() -> Iterator[RuleModel]:
    """A loopback Ollama server that answers with :class:`RuleModel`'s rule."""
    yield from serve_rule_model()


def serve_rule_model() -> Iterator[RuleModel]:
    """Start the loopback server; stop it when the generator is closed."""
    model = RuleModel()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(model))
    httpd.daemon_threads = True
    model.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield model
    httpd.shutdown()
    httpd.server_close()


def arena_raw(
    journal_dir: Path,
    strategies: list[dict[str, Any]] | None = None,
    **arena: Any,
) -> dict[str, Any]:
    """A small arena config mapping on the shipped S&P 500 file."""
    return {
        "run": {"name": "t", "seed": 5, "initial_cash": 100_000.0},
        "data": [{"path": str(SP500), "symbol": "SPX"}],
        "execution": {"taker_bps": 5.0, "slippage": {"model": "fixed", "bps": 2.0}},
        "strategies": strategies
        or [
            {"name": "sma_cross", "id": "sma", "params": {"fast": 10, "slow": 40}},
            {"name": "momentum", "id": "mom", "params": {"lookback": 60}},
        ],
        "journal": {"dir": str(journal_dir)},
        "plugins": {"entry_points": False},
        "arena": {
            "windows": [
                {"start": "2016-01-01", "end": "2016-12-31"},
                {"start": "2017-01-01", "end": "2017-12-31"},
            ],
            "warmup_bars": 100,
            "bootstrap_reps": 200,
            **arena,
        },
    }


def llm_entry(sid: str, url: str, cache_dir: Path, **params: Any) -> dict[str, Any]:
    """An LLM trader on the loopback Ollama server, deciding every 40 bars."""
    return {
        "name": "llm_trader",
        "id": sid,
        "params": {
            "provider": "ollama",
            "model": "rule-model",
            "host": url,
            "every": 40,
            "warmup": 20,
            "decide_on": "",
            "cache_dir": str(cache_dir),
            **params,
        },
        "sizer": {"name": "fraction", "fraction": 0.5, "max_fraction": 0.95},
    }


@pytest.fixture
def tiny_arena(tmp_path: Path) -> ArenaConfig:
    """Two rule-based strategies, the baselines, two one-year windows."""
    return parse_arena_config(arena_raw(tmp_path / "journals"), tmp_path)
