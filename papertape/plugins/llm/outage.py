"""A model that keeps failing: said at once, and given up after a streak (``max_failed_calls``).

A failed call (a timeout or a provider error: no answer at all) is a HOLD, journaled with its
reason. Without more, a trader pointed at a server that is not running held silently for the
whole run. :class:`FailureStreak` logs the first failure of a streak at once and, at the
``max_failed_calls``-th in a row, raises :class:`~papertape.engine.errors.StrategyError`,
which the engine counts like any strategy error (the default three disable the trader and
flatten it). Failures served from the cache count alike, so a cached re-run gives up at the
same decision as the run it repeats. Any answer ends the streak.
"""

from __future__ import annotations

import logging

from papertape.engine.errors import StrategyError
from papertape.plugins.llm.chain import FAILED_CALL_CODES, ModelLink
from papertape.plugins.llm.schema import ReasonCode

__all__ = ["FailureStreak"]

log = logging.getLogger("papertape.plugins.llm.trader")


class FailureStreak:
    """Failed model calls in a row of one trader (``limit`` 0: never give up)."""

    def __init__(self, trader_id: str, limit: int) -> None:
        self.trader_id = trader_id
        self.limit = limit
        self.count = 0

    def record(self, code: ReasonCode, detail: str, link: ModelLink) -> None:
        """Count one decision's outcome.

        Raises:
            StrategyError: The ``limit``-th failed call in a row (the streak starts over).
        """
        if code not in FAILED_CALL_CODES:
            self.count = 0
            return
        self.count += 1
        if self.count == 1:
            log.warning(
                "LLM trader %s: model call failed (%s: %s); holding (%s)",
                self.trader_id,
                code.value,
                detail[:200],
                f"gives up after {self.limit} in a row" if self.limit else "never gives up",
            )
        if self.limit and self.count >= self.limit:
            n, self.count = self.count, 0
            raise StrategyError(
                f"{n} model calls in a row failed ({link.label}: {link.provider!r}; last: "
                f"{code.value}: {detail[:200]}); is the model server running? A failed "
                'call is cached like an answer: cache = "retry" asks again '
                "(params.max_failed_calls)"
            )
