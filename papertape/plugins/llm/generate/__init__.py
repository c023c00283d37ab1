"""LLM strategy generation: a model writes rules as JSON; a safe parser validates them."""

from papertape.plugins.llm.generate.expr import Condition, compile_condition
from papertape.plugins.llm.generate.pipeline import Attempt, GenerationResult, generate_strategy
from papertape.plugins.llm.generate.rules import RuleStrategy, render_dropin
from papertape.plugins.llm.generate.spec import (
    CompiledSpec,
    StrategySpec,
    spec_schema,
    validate_spec,
)

__all__ = [
    "Attempt",
    "CompiledSpec",
    "Condition",
    "GenerationResult",
    "RuleStrategy",
    "StrategySpec",
    "compile_condition",
    "generate_strategy",
    "render_dropin",
    "spec_schema",
    "validate_spec",
]
