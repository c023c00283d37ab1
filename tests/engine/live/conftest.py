"""Factories for the live tests: Kraken messages, tapes, a real replay server, live configs.

Nothing is mocked: WebSocket tests start :class:`~engine.feeds.replay_server.ReplayServer` on
127.0.0.1 with an ephemeral port inside the test's own event loop.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest

from papertape.engine.config import RunConfig, parse_config
from papertape.engine.feeds.kraken.sources import load_tape
from papertape.engine.feeds.kraken.tape import Tape
from papertape.engine.feeds.replay_server import ReplayOptions, ReplayServer

DATA = Path(__file__).parent / "data" / "kraken_ws_v2"
ALT_1M = "binance_altbtc_1m.csv"  # shipped with papertape (papertape/engine/data)
SYMBOL = "ALT/BTC"
T = TypeVar("T")


def kraken_text(name: str) -> str:
    """The raw text of one shipped Kraken message."""
    return (DATA / f"{name}.json").read_text(encoding="utf-8")


def kraken_json(name: str) -> dict[str, Any]:
    """One shipped Kraken message, decoded."""
    return json.loads(kraken_text(name))  # type: ignore[no-any-return]


def run(coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
    """Run a coroutine to completion with a hard time limit (a hung socket fails the test)."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


def alt_tape(bars: int = 120, history: int = 30, **kw: Any) -> Tape:
    """The shipped 1-minute ALT/BTC candles as a tape (history served as the first snapshot)."""
    from papertape.engine.config import resolve_data_path

    return load_tape(resolve_data_path(ALT_1M), SYMBOL, history=history, bars=bars, **kw)


@asynccontextmanager
async def serving(tape: Tape, **options: Any) -> AsyncIterator[ReplayServer]:
    """A replay server on 127.0.0.1 (ephemeral port) for the duration of the block."""
    server = ReplayServer(tape, ReplayOptions(**{"speed": 0.0, **options}))
    await server.start("127.0.0.1", 0)
    try:
        yield server
    finally:
        await server.close()


def live_config(url: str, strategies: list[dict[str, Any]] | None = None, **live: Any) -> RunConfig:
    """A live-mode config on ``url`` (fast reconnects; no journal unless asked)."""
    raw: dict[str, Any] = {
        "run": {"mode": "live", "name": "test-live"},
        "live": {
            "url": url,
            "symbols": [SYMBOL],
            "reconnect_initial_s": 0.02,
            "reconnect_max_s": 0.1,
            **live,
        },
        "execution": {"maker_bps": 2.0, "taker_bps": 5.0},
        "strategies": strategies
        or [
            {
                "name": "sma_cross",
                "id": "sma",
                "params": {"fast": 5, "slow": 20},
                "sizer": {"name": "fixed", "qty": 150.0},
            },
        ],
        "journal": {"enabled": False},
        "plugins": {"entry_points": False},
    }
    return parse_config(raw)


@pytest.fixture
def kraken() -> Callable[[str], str]:
    """Raw text of a shipped Kraken message by name."""
    return kraken_text
