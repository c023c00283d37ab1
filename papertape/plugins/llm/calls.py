"""One model call, and what surrounds it: its time limit, sharing, and the keys it needs.

* :func:`call_model` asks a provider once, within a time limit, and always returns a
  :class:`~papertape.plugins.llm.cache.CacheEntry` — a timeout or a provider error becomes an
  entry with a reason code (a HOLD later), never an exception;
* identical requests in flight together share one call (:func:`join_flight` and friends),
  within a process and, through claim files in the cache folder, across processes;
* :func:`missing_credential` says why a provider cannot be called here (its key is unset).
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import TYPE_CHECKING

from papertape.plugins.llm.cache import CacheEntry, ResponseCache
from papertape.plugins.llm.schema import ReasonCode, TradeDecision, parse_decision

if TYPE_CHECKING:
    from papertape.plugins.llm.providers import LlmRequest, Provider

__all__ = [
    "CLAIM_POLL_S",
    "call_model",
    "close_flight",
    "flight_key",
    "join_flight",
    "judge",
    "missing_credential",
    "open_flight",
]


async def call_model(request: LlmRequest, provider: Provider, timeout: float) -> CacheEntry:
    """Ask ``provider`` once; a timeout or an error is an entry with its reason code."""
    t0 = time.perf_counter()
    try:
        resp = await asyncio.wait_for(provider.complete(request), timeout)
    except TimeoutError as exc:
        ms = (time.perf_counter() - t0) * 1e3
        why = str(exc) or f"no answer within {timeout}s"
        return CacheEntry("", latency_ms=ms, error_code=ReasonCode.TIMEOUT.value, error=why)
    except Exception as exc:  # ModelError, or anything a backend let through: a HOLD
        ms = (time.perf_counter() - t0) * 1e3
        why = f"{type(exc).__name__}: {exc}"[:300]
        return CacheEntry("", latency_ms=ms, error_code=ReasonCode.PROVIDER_ERROR.value, error=why)
    ms = (time.perf_counter() - t0) * 1e3
    return CacheEntry(
        resp.text,
        resp.tokens_in,
        resp.tokens_out,
        resp.cost,
        ms,
        resp.stop_reason,
        resp.refusal,
        resp.truncated,
    )


def judge(
    entry: CacheEntry | None, code: ReasonCode | None
) -> tuple[ReasonCode, str, TradeDecision | None]:
    """What an answer amounts to: a reason code, its detail, and the validated decision.

    ``entry`` is None when no call happened (``code`` then says why: budget, cache miss).
    """
    if entry is None:
        assert code is not None
        why = (
            "the replay cache has no entry for this prompt"
            if code is ReasonCode.CACHE_MISS
            else f"{code.value} budget spent"
        )
        return code, why, None
    if entry.failed:
        return ReasonCode(entry.error_code), entry.error, None
    if entry.refusal:
        return ReasonCode.REFUSAL, f"the model refused: {entry.text[:160]}", None
    parsed = parse_decision(entry.text, truncated=entry.truncated)
    return parsed.code, parsed.detail, parsed.decision


# Identical requests in flight at the same time (two traders whose prompts coincide, e.g.
# two moderate traders of the packaged base model on one tape; personas differ there by their
# tilt, which is part of the request) share one model call: the first asks, the
# others wait for its answer. Without this, a run that calls the model could give the two
# traders different answers while its cached replay serves both the one stored answer, and
# the replay would not reproduce the run.
#
# Across processes (sweep or arena workers on one cache folder) the first to ask holds a claim
# file beside the cache entry; the others poll until it is released, then read the entry.
_IN_FLIGHT: dict[tuple[str, str], asyncio.Future[CacheEntry]] = {}
_CLAIMED: set[tuple[str, str]] = set()  # flights whose cross-process claim this process holds
CLAIM_POLL_S = 0.1  # how often a process waiting for another's call looks for its answer


def flight_key(cache: ResponseCache | None, key: str) -> tuple[str, str] | None:
    """The identity of a request across traders sharing a cache (None: no cache, no sharing)."""
    if cache is None:
        return None
    return (str(cache.directory) if cache.directory is not None else f"mem:{id(cache)}", key)


async def join_flight(flight: tuple[str, str] | None) -> CacheEntry | None:
    """The answer of an identical call already in flight, or None (then ask the model).

    A call in flight in another process sharing the cache folder counts too: this waits for
    its entry. None means this process now holds the claim (released by
    :func:`close_flight`).
    """
    if flight is None:
        return None
    pending = _IN_FLIGHT.get(flight)
    if pending is None:
        return await _claim(flight)
    try:
        return await asyncio.shield(pending)
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise  # this trader is being cancelled itself
        return None  # the first caller gave up: ask the model ourselves


async def _claim(flight: tuple[str, str]) -> CacheEntry | None:
    """Claim ``flight`` across processes, or wait for the entry of the process that holds it."""
    folder, key = flight
    if folder.startswith("mem:"):
        return None  # an in-memory cache is not shared with other processes
    cache = ResponseCache(folder)
    before = cache.get(key, fresh=True)  # None, or a failure that retry mode asks again
    if before is not None and not before.failed:
        return before  # stored by another process since the caller looked
    while not cache.claim(key):
        await asyncio.sleep(CLAIM_POLL_S)
        if not cache.claimed(key):  # released (or its process died): answered?
            entry = cache.get(key, fresh=True)
            if entry is not None and entry != before:
                return entry
    entry = cache.get(key, fresh=True)  # answered between the look-up and the claim?
    if entry is not None and entry != before:
        cache.release(key)
        return entry
    _CLAIMED.add(flight)
    return None


def open_flight(flight: tuple[str, str] | None) -> asyncio.Future[CacheEntry] | None:
    """Announce a call for ``flight``; its answer is set on the returned future."""
    if flight is None:
        return None
    future: asyncio.Future[CacheEntry] = asyncio.get_running_loop().create_future()
    _IN_FLIGHT[flight] = future
    return future


def close_flight(flight: tuple[str, str] | None, future: asyncio.Future[CacheEntry] | None) -> None:
    """End the call of ``flight``; a future left unanswered makes its waiters call themselves."""
    if flight is None or future is None:
        return
    if flight in _CLAIMED:
        _CLAIMED.discard(flight)
        ResponseCache(flight[0]).release(flight[1])  # after the entry is stored
    if _IN_FLIGHT.get(flight) is future:
        del _IN_FLIGHT[flight]
    if not future.done():
        future.cancel()  # waiters ask the model themselves


def missing_credential(provider: str, api_key_env: str = "OPENAI_API_KEY") -> str:
    """Why a trader on ``provider`` cannot call its model here ("" when it can).

    Only keys are checked (they are read from the environment, never from configs); a server
    that is down shows up later, as a HOLD with reason code ``provider_error``.
    """
    if provider == "anthropic" and not os.environ.get("ANTHROPIC_API_KEY"):
        return "ANTHROPIC_API_KEY is not set"
    if provider == "openai" and api_key_env and not os.environ.get(api_key_env):
        return f"{api_key_env} is not set"
    return ""
