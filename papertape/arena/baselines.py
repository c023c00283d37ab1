"""Baseline traders added to every arena: buy-and-hold, always-flat and a seeded random trader.

Baselines trade under the same sizer and shields as the arena's reference trader (its first
``llm_trader``, else its first strategy), so a comparison measures decisions, not sizing. The
random trader copies the reference LLM trader's decision schedule (``every``, ``warmup``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from papertape.engine.config import PluginRef, StrategyConfig

if TYPE_CHECKING:
    from papertape.engine.config import RunConfig

__all__ = ["BASELINE_STRATEGIES", "add_baselines", "is_baseline", "reference_trader"]

# arena name -> (slot id, registered strategy name)
BASELINE_STRATEGIES: dict[str, tuple[str, str]] = {
    "buy_and_hold": ("buy_and_hold", "buy_and_hold"),
    "always_flat": ("always_flat", "always_flat"),
    "random": ("random", "random_trader"),
}

LLM_STRATEGY = "llm_trader"
DEFAULT_EVERY, DEFAULT_WARMUP = 20, 50


def is_baseline(slot_id: str) -> bool:
    """True for the slot ids the arena gives its baselines."""
    return any(slot_id == sid for sid, _ in BASELINE_STRATEGIES.values())


def reference_trader(config: RunConfig) -> StrategyConfig:
    """The first LLM trader of the config, else its first strategy."""
    for sc in config.strategies:
        if sc.name == LLM_STRATEGY:
            return sc
    return config.strategies[0]


def add_baselines(config: RunConfig, baselines: Sequence[str], seed: int) -> RunConfig:
    """Return ``config`` with the named baselines appended as strategies.

    Args:
        config: The arena's run config (its strategies are the contestants).
        baselines: Names from :data:`BASELINE_STRATEGIES`.
        seed: The random trader's seed.

    Returns:
        A new config; the contestants keep their order and come first.
    """
    ref = reference_trader(config)
    every = int(ref.params.get("every", DEFAULT_EVERY)) if ref.name == LLM_STRATEGY else None
    warmup = int(ref.params.get("warmup", DEFAULT_WARMUP)) if ref.name == LLM_STRATEGY else None
    added = []
    for name in baselines:
        slot_id, strategy = BASELINE_STRATEGIES[name]
        params: dict[str, object] = {}
        if name == "random":
            params = {
                "every": every or DEFAULT_EVERY,
                "warmup": DEFAULT_WARMUP if warmup is None else warmup,
                "seed": seed,
                "allow_short": bool(ref.params.get("allow_short", False)),
            }
        added.append(
            StrategyConfig(
                name=strategy,
                id=slot_id,
                symbols=ref.symbols,
                params=params,
                sizer=PluginRef.model_validate(ref.sizer.model_dump()),
                shields=list(ref.shields),
            )
        )
    return config.model_copy(update={"strategies": [*config.strategies, *added]})
