"""LLM trader: a language model decides every N bars (see plugins/llm and docs/llm.md).

This thin module makes the plugin discoverable as ``llm_trader``, e.g.::

    papertape backtest --data sp500_daily.csv --strategy llm_trader \
        --param provider=local --param every=250
"""

from __future__ import annotations

from papertape.plugins.llm import trader

__all__ = ["LlmTrader"]


class LlmTrader(trader.LlmTrader):
    """An LLM trades from a compact market context every N bars (local, Ollama, Anthropic)."""
