"""Budgets (calls, tokens, cost per run) and the calls-per-minute limit of one trader.

Budgets are checked *before* a call against a worst-case estimate of it (prompt characters / 3
plus the output limit, priced at the backend's rates), so a run does not cross its budget by a
call in flight. Usage is charged from what the call reported; a cached call is charged as
recorded, which keeps a replay's budget decisions (and so its journal) identical to the live
run's. When a budget is spent the trader holds and the journal names the budget.

The calls-per-minute limit is different: it protects a provider's rate limit, so it *waits*
(the engine waits for the decision in replay) instead of holding; holding on wall-clock rate
would make the journal depend on how fast the machine was. Cache hits never wait.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from papertape.plugins.llm.schema import ReasonCode

__all__ = ["Budget", "BudgetTracker", "RateLimiter", "estimate_tokens"]


def estimate_tokens(text: str) -> int:
    """A deliberately high token estimate for budget checks (3 characters per token)."""
    return math.ceil(len(text) / 3)


@dataclass(frozen=True, slots=True)
class Budget:
    """Per-run limits of one trader; 0 means unlimited.

    Attributes:
        max_calls: Model calls (cache hits count as the calls they replay).
        max_tokens: Input plus output tokens.
        max_cost: USD.
    """

    max_calls: int = 0
    max_tokens: int = 0
    max_cost: float = 0.0


class BudgetTracker:
    """Running usage against a :class:`Budget`."""

    __slots__ = ("budget", "calls", "cost", "tokens")

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.calls = 0
        self.tokens = 0
        self.cost = 0.0

    def check(self, est_tokens: int, est_cost: float) -> ReasonCode | None:
        """The budget one more call of this size would cross, or None."""
        b = self.budget
        if b.max_calls and self.calls + 1 > b.max_calls:
            return ReasonCode.BUDGET_CALLS
        if b.max_tokens and self.tokens + est_tokens > b.max_tokens:
            return ReasonCode.BUDGET_TOKENS
        if b.max_cost and self.cost + est_cost > b.max_cost:
            return ReasonCode.BUDGET_COST
        return None

    def charge(self, tokens_in: int, tokens_out: int, cost: float) -> None:
        """Book one call's usage."""
        self.calls += 1
        self.tokens += tokens_in + tokens_out
        self.cost += cost


class RateLimiter:
    """A sliding one-minute window of call starts; ``acquire`` waits for a free slot.

    Args:
        per_minute: Calls allowed in any 60-second window (0 = unlimited).
        clock: Monotonic seconds (injectable for tests).
        sleep: Async sleep (injectable for tests).
    """

    WINDOW = 60.0

    def __init__(
        self,
        per_minute: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._sleep = sleep
        self._starts: deque[float] = deque()
        self.waited = 0.0

    async def acquire(self) -> float:
        """Take a slot, waiting as long as needed; return the seconds waited."""
        if self.per_minute <= 0:
            return 0.0
        waited = 0.0
        while True:
            now = self._clock()
            while self._starts and now - self._starts[0] >= self.WINDOW:
                self._starts.popleft()
            if len(self._starts) < self.per_minute:
                self._starts.append(now)
                self.waited += waited
                return waited
            delay = self.WINDOW - (now - self._starts[0])
            await self._sleep(delay)
            waited += delay
