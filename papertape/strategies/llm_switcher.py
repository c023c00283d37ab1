"""LLM switcher: each decision goes to the model with the best trailing record (plugins/llm).

This thin module makes the plugin discoverable as ``llm_switcher``; see docs/llm.md.
"""

from __future__ import annotations

from papertape.plugins.llm import switcher

__all__ = ["LlmSwitcher"]


class LlmSwitcher(switcher.SwitcherTrader):
    """Routes each decision to the model with the best trailing risk-adjusted record."""
