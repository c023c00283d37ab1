"""LLM-as-trader: providers, typed decisions, exact replay cache, budgets, strategy generation.

The trader itself is :class:`~plugins.llm.trader.LlmTrader` (registered as ``llm_trader``
through ``strategies/llm_trader.py``), the model router
:class:`~plugins.llm.switcher.SwitcherTrader` (``llm_switcher``); see ``docs/llm.md`` for
configuration and the journal.
"""

from papertape.plugins.llm.budget import Budget, BudgetTracker, RateLimiter
from papertape.plugins.llm.cache import CacheEntry, ResponseCache, request_key
from papertape.plugins.llm.chain import FALLBACK_CODES, ModelLink
from papertape.plugins.llm.memory import MemoryIndex, Situation
from papertape.plugins.llm.multi_agent import MultiAgentTrader
from papertape.plugins.llm.prompt import PERSONAS, Prompt, PromptSettings, build_prompt
from papertape.plugins.llm.providers import (
    AnthropicProvider,
    Capabilities,
    FewShotLocalProvider,
    LlmRequest,
    LlmResponse,
    LocalProvider,
    OllamaProvider,
    OpenAIProvider,
    Provider,
    capability_table,
    make_provider,
)
from papertape.plugins.llm.schema import (
    Action,
    ReasonCode,
    TradeDecision,
    decision_schema,
    parse_decision,
)
from papertape.plugins.llm.switcher import SwitcherTrader
from papertape.plugins.llm.trader import LlmTrader

__all__ = [
    "FALLBACK_CODES",
    "PERSONAS",
    "Action",
    "AnthropicProvider",
    "Budget",
    "BudgetTracker",
    "CacheEntry",
    "Capabilities",
    "FewShotLocalProvider",
    "LlmRequest",
    "LlmResponse",
    "LlmTrader",
    "LocalProvider",
    "MemoryIndex",
    "ModelLink",
    "MultiAgentTrader",
    "OllamaProvider",
    "OpenAIProvider",
    "Prompt",
    "PromptSettings",
    "Provider",
    "RateLimiter",
    "ReasonCode",
    "ResponseCache",
    "Situation",
    "SwitcherTrader",
    "TradeDecision",
    "build_prompt",
    "capability_table",
    "decision_schema",
    "make_provider",
    "parse_decision",
    "request_key",
]
