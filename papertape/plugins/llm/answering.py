"""How an LLM trader gets an answer: budget, cache, a call in flight, then the model.

:class:`Answering` is mixed into :class:`~plugins.llm.trader.LlmTrader` (and so its switcher
and multi-agent subclasses): ``_answer`` looks a request up in the content-addressed cache,
joins the same request already in flight (in this process or, through claim files, another
one sharing the cache folder), or calls the model under the rate limit and stores the answer;
``_charge`` books its tokens and cost against the budget and the trader's counters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from papertape.engine.events import LlmDecision
from papertape.plugins.llm.budget import estimate_tokens
from papertape.plugins.llm.cache import CacheEntry, request_key, serves
from papertape.plugins.llm.calls import (
    call_model,
    close_flight,
    flight_key,
    join_flight,
    open_flight,
)
from papertape.plugins.llm.schema import ReasonCode

if TYPE_CHECKING:
    from papertape.engine.snapshot import Snapshot
    from papertape.plugins.llm.budget import BudgetTracker, RateLimiter
    from papertape.plugins.llm.cache import ResponseCache
    from papertape.plugins.llm.chain import ModelLink
    from papertape.plugins.llm.prompt import Prompt
    from papertape.plugins.llm.providers import LlmRequest
    from papertape.plugins.llm.schema import TradeDecision
    from papertape.plugins.llm.stats import TraderStats

__all__ = ["Answer", "Answering", "Consulted"]


@dataclass(frozen=True, slots=True)
class Answer:
    """A model's answer to one request, or why there is none."""

    entry: CacheEntry | None  # None when no call happened (budget, cache miss)
    code: ReasonCode | None  # set when no call happened
    key: str


@dataclass(frozen=True, slots=True)
class Consulted:
    """The model answer a decision goes with (see :meth:`LlmTrader._consult`)."""

    link: ModelLink
    prompt: Prompt
    request: LlmRequest
    answer: Answer
    code: ReasonCode
    detail: str
    decision: TradeDecision | None
    notes: tuple[LlmDecision, ...] = ()  # calls that led here (multi-agent roles), journaled first

    def journal_record(
        self,
        snap: Snapshot,
        strategy: str,
        decision_id: str,
        action: str,
        raw_chars: int,
        memory: tuple[str, ...] = (),
    ) -> LlmDecision:
        """The :class:`~engine.events.LlmDecision` of this call, taking ``action``.

        The raw answer is kept up to ``raw_chars`` characters (the whole answer was validated;
        ``raw_length`` and ``raw_truncated`` say what was cut); latency, tokens and cost are
        the cache entry's, so a replayed run journals the same values.
        """
        entry = self.answer.entry or CacheEntry("")
        decision = self.decision
        return LlmDecision(
            snap.time,
            strategy,
            decision_id,
            snap.symbol,
            self.link.provider.name,
            self.link.provider.model,
            self.request.params(),
            self.prompt.sha256,
            self.answer.key,
            entry.text[:raw_chars],
            None if decision is None else decision.model_dump(mode="json"),
            action,
            self.code.value,
            self.detail,
            round(entry.latency_ms, 1),
            entry.tokens_in,
            entry.tokens_out,
            round(entry.cost, 8),
            len(entry.text),
            len(entry.text) > raw_chars,
            memory,
        )


class Answering:
    """The answer path of a trader (see the module docs); set up by the trader's ``on_start``."""

    p: Any
    budget: BudgetTracker
    cache: ResponseCache | None
    limiter: RateLimiter
    counters: TraderStats

    async def _answer(self, request: LlmRequest, link: ModelLink) -> Answer:
        """Budget check, then the cache, then (maybe) the model."""
        key = request_key(link.identity, request)
        caps = link.provider.capabilities
        est_in = estimate_tokens(request.system) + estimate_tokens(request.prompt)
        est_cost = caps.cost(est_in, request.max_tokens)
        spent = self.budget.check(est_in + request.max_tokens, est_cost)
        if spent is not None:
            return Answer(None, spent, key)
        cached = self.cache.get(key) if self.cache is not None else None
        if cached is not None and serves(cached, self.p.cache):
            self.counters.cache_hits += 1
            self._charge(cached, spent_now=False)
            return Answer(cached, None, key)
        if self.p.cache == "replay":
            return Answer(None, ReasonCode.CACHE_MISS, key)
        flight = flight_key(self.cache, key)
        shared = await join_flight(flight)
        if shared is not None:  # the same request is being answered for another trader
            self.counters.cache_hits += 1
            self._charge(shared, spent_now=False)
            return Answer(shared, None, key)
        done = open_flight(flight)
        try:
            self.counters.rate_wait_s += await self.limiter.acquire()
            entry = await call_model(request, link.provider, self.p.timeout)
            self.counters.llm_calls += 1
            self._charge(entry, spent_now=True)
            if self.cache is not None:
                self.cache.put(
                    key,
                    entry,
                    {
                        **link.identity,
                        "params": request.params(),
                        "system": request.system,
                        "prompt": request.prompt,
                    },
                )
            if done is not None:
                done.set_result(entry)
        finally:
            close_flight(flight, done)
        return Answer(entry, None, key)

    def _charge(self, entry: CacheEntry, *, spent_now: bool) -> None:
        self.budget.charge(entry.tokens_in, entry.tokens_out, entry.cost)
        c = self.counters
        c.tokens_in += entry.tokens_in
        c.tokens_out += entry.tokens_out
        c.cost += entry.cost
        c.model_ms.append(entry.latency_ms)
        if spent_now:
            c.cost_spent += entry.cost
