"""LLM desk: analysts, a bull/bear debate, a trader and a risk manager (plugins/llm).

This thin module makes the plugin discoverable as ``llm_multi_agent``; see docs/llm.md.
"""

from __future__ import annotations

from papertape.plugins.llm import multi_agent

__all__ = ["LlmMultiAgent"]


class LlmMultiAgent(multi_agent.MultiAgentTrader):
    """Analysts, a bull/bear debate, a trader and a risk manager decide together."""
