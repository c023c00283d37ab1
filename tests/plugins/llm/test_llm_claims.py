"""Claims on a call in flight across processes: claim files beside the cache entries."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from papertape.plugins.llm.cache import CLAIM_STALE_S, CacheEntry, ResponseCache
from papertape.plugins.llm.calls import close_flight, flight_key, join_flight, open_flight

KEY = "ab" + "0" * 62


def _claim_file(folder: Path, pid: int, host: str, age: float = 0.0) -> Path:
    path = folder / KEY[:2] / f"{KEY}.claim"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"pid": pid, "host": host, "time": time.time() - age}))
    if age:
        then = time.time() - age
        os.utime(path, (then, then))
    return path


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True)  # fmt: skip
    return int(proc.stdout)


def test_a_claim_is_held_until_released(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)

    assert cache.claim(KEY)
    assert cache.claimed(KEY) and not cache.claim(KEY)  # a live holder: nobody else asks
    cache.release(KEY)
    assert not cache.claimed(KEY) and cache.claim(KEY)


def test_a_claim_of_a_dead_process_or_an_old_one_is_taken_over(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    _claim_file(tmp_path, _dead_pid(), socket.gethostname())

    assert not cache.claimed(KEY) and cache.claim(KEY)

    _claim_file(tmp_path, 1, "another-node", age=CLAIM_STALE_S + 5.0)
    assert not cache.claimed(KEY) and cache.claim(KEY)
    _claim_file(tmp_path, 1, "another-node")  # recent, on a node we cannot look into
    assert cache.claimed(KEY) and not cache.claim(KEY)


def test_a_waiter_gets_the_entry_of_the_process_holding_the_claim(tmp_path: Path) -> None:
    other = ResponseCache(tmp_path)  # the other process's view of the folder
    answer = CacheEntry('{"action": "HOLD"}', 10, 5, 0.0, 120.0, "stop")
    assert other.claim(KEY)

    async def scenario() -> tuple[CacheEntry | None, float]:
        async def answer_later() -> None:
            await asyncio.sleep(0.4)
            other.put(KEY, answer)
            other.release(KEY)

        flight = flight_key(ResponseCache(tmp_path), KEY)
        t0 = time.perf_counter()
        helper = asyncio.create_task(answer_later())
        got = await join_flight(flight)
        await helper
        return got, time.perf_counter() - t0

    got, waited = asyncio.run(scenario())

    assert got == answer and waited >= 0.4
    assert not other.claimed(KEY)


def test_the_caller_holds_the_claim_until_its_flight_closes(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    flight = flight_key(cache, KEY)

    async def scenario() -> None:
        assert await join_flight(flight) is None  # nobody asked: this caller asks the model
        done = open_flight(flight)
        assert cache.claimed(KEY)  # other processes wait
        assert done is not None
        cache.put(KEY, CacheEntry("{}"))
        done.set_result(CacheEntry("{}"))
        close_flight(flight, done)

    asyncio.run(scenario())

    assert not cache.claimed(KEY) and not list(tmp_path.glob("*/*.claim"))
