"""Per-trader run figures: calls, cache hits, invalid decisions by reason, tokens, cost, latency.

These are what ``papertape backtest --json`` / ``run --json`` show under each LLM trader's
``stats``. Usage (tokens, cost) is *accounted* usage: a cache hit counts the call it replays,
so a replay reports what the decisions cost; ``cost_spent`` is what this run actually paid.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from papertape.plugins.llm.schema import BUDGET_CODES, INVALID_CODES, ReasonCode

__all__ = ["TraderStats", "percentile"]


def percentile(values: list[float], q: float) -> float | None:
    """Linear-interpolated percentile ``q`` (0–100) of ``values``; None when empty."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _summary(values: list[float]) -> dict[str, float | int | None]:
    def r(x: float | None) -> float | None:
        return None if x is None else round(x, 3)

    return {
        "n": len(values),
        "p50": r(percentile(values, 50)),
        "p95": r(percentile(values, 95)),
        "max": r(max(values)) if values else None,
    }


class TraderStats:
    """Counters of one trader over one run."""

    def __init__(self, provider: str, model: str) -> None:
        self.provider = provider
        self.model = model
        self.decisions = 0
        self.llm_calls = 0
        self.cache_hits = 0
        self.codes: Counter[str] = Counter()
        self.actions: Counter[str] = Counter()
        self.tokens_in = 0
        self.tokens_out = 0
        self.cost = 0.0
        self.cost_spent = 0.0
        self.decision_ms: list[float] = []
        self.model_ms: list[float] = []
        self.rate_wait_s = 0.0

    def record(self, code: ReasonCode, action: str) -> None:
        """Count one finished decision."""
        self.decisions += 1
        self.codes[code.value] += 1
        self.actions[action] += 1

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready figures."""
        codes = self.codes
        invalid = {c.value: codes[c.value] for c in sorted(INVALID_CODES) if codes[c.value]}
        budget = {c.value: codes[c.value] for c in sorted(BUDGET_CODES) if codes[c.value]}
        return {
            "provider": self.provider,
            "model": self.model,
            "decisions": self.decisions,
            "llm_calls": self.llm_calls,
            "cache_hits": self.cache_hits,
            "invalid_decisions": invalid,
            "invalid_total": sum(invalid.values()),
            "budget_holds": budget,
            "actions": dict(sorted(self.actions.items())),
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "cost": round(self.cost, 6),
            "cost_spent": round(self.cost_spent, 6),
            "latency_ms": _summary(self.decision_ms),
            "model_latency_ms": _summary(self.model_ms),
            "rate_limit_wait_s": round(self.rate_wait_s, 3),
        }
