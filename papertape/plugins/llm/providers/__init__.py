"""LLM backends behind one async interface, and their capability table.

==========  =======================================  ====  ===========  =======  ==========
provider    structured output                        seed  temperature  offline  USD / Mtok
==========  =======================================  ====  ===========  =======  ==========
local       JSON-schema grammar in llama.cpp         yes   yes          yes      0 / 0
ollama      JSON schema in ``format=`` (grammar)     yes   yes          yes      0 / 0
anthropic   strict tool use, forced ``tool_choice``  no    no           no       by model
openai      ``response_format`` json_schema, or      yes   yes          local    by model
            JSON mode + schema (table by host)                          servers
==========  =======================================  ====  ===========  =======  ==========

Anthropic prices (input / output per million tokens) come from
:data:`~plugins.llm.providers.anthropic.ANTHROPIC_PRICES`, e.g. Claude Haiku 4.5: 1 / 5.

:func:`capability_table` returns the same rows as data. SDKs are imported lazily, so a run that
never calls a backend does not need its package.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from papertape.engine.errors import ConfigError
from papertape.plugins.llm.providers.anthropic import AnthropicProvider
from papertape.plugins.llm.providers.base import Capabilities, LlmRequest, LlmResponse, Provider
from papertape.plugins.llm.providers.local import LOCAL_CAPABILITIES, LocalProvider
from papertape.plugins.llm.providers.local_fewshot import DECODERS, FewShotLocalProvider
from papertape.plugins.llm.providers.ollama import OLLAMA_CAPABILITIES, OllamaProvider
from papertape.plugins.llm.providers.openai_compat import OpenAIProvider

__all__ = [
    "DECODERS",
    "PROVIDERS",
    "AnthropicProvider",
    "Capabilities",
    "FewShotLocalProvider",
    "LlmRequest",
    "LlmResponse",
    "LocalProvider",
    "OllamaProvider",
    "OpenAIProvider",
    "Provider",
    "capability_table",
    "make_provider",
]

PROVIDERS: dict[str, type[Provider]] = {
    "local": LocalProvider,
    "ollama": OllamaProvider,
    "anthropic": AnthropicProvider,
    "openai": OpenAIProvider,
}


def make_provider(
    name: str,
    model: str = "",
    *,
    timeout: float = 60.0,
    host: str = "",
    base_url: str = "",
    max_retries: int = 2,
    n_ctx: int = 4096,
    n_threads: int = 0,
    decode: str = "chat",
    api_key_env: str = "OPENAI_API_KEY",
    structured: str = "auto",
    price_in: float = -1.0,
    price_out: float = -1.0,
) -> Provider:
    """Create the backend ``name`` (no model is loaded and no connection is made yet).

    Args:
        name: ``local``, ``ollama`` or ``anthropic``.
        model: Model name or (local) GGUF path; empty means the backend's default.
        timeout: Seconds per HTTP request (remote backends).
        host: Ollama server URL (default ``OLLAMA_HOST``).
        base_url: Anthropic API base URL (default: the SDK's).
        max_retries: Anthropic SDK retries.
        n_ctx: llama.cpp context length (local).
        n_threads: llama.cpp threads, 0 = automatic (local).
        decode: Local decoder: ``chat`` (chat turn, JSON grammar), ``fewshot`` or
            ``calibrated`` (few-shot completion; see ``local_fewshot``).
        api_key_env: Environment variable with the OpenAI-compatible key ("" = none).
        structured: OpenAI-compatible structured output: ``auto``, ``json_schema``,
            ``json_object``.
        price_in: USD per million input tokens (OpenAI-compatible; < 0 = price table).
        price_out: USD per million output tokens (OpenAI-compatible; < 0 = price table).

    Raises:
        ConfigError: For an unknown backend name.
    """
    if name == "local" and decode in DECODERS:
        return FewShotLocalProvider(model, decode=decode, n_ctx=n_ctx, n_threads=n_threads)
    if name == "local":
        return LocalProvider(model, n_ctx=n_ctx, n_threads=n_threads)
    if name == "ollama":
        return OllamaProvider(model, host=host, timeout=timeout)
    if name == "anthropic":
        return AnthropicProvider(model, base_url=base_url, timeout=timeout, max_retries=max_retries)
    if name == "openai":
        return OpenAIProvider(
            model,
            base_url=base_url,
            api_key_env=api_key_env,
            structured=structured,
            timeout=timeout,
            max_retries=max_retries,
            price_in=price_in,
            price_out=price_out,
        )
    raise ConfigError("params.provider", name, f"must be one of {', '.join(PROVIDERS)}")


def capability_table() -> list[dict[str, Any]]:
    """One row per backend (Anthropic priced for its default model)."""
    rows = [
        LOCAL_CAPABILITIES,
        OLLAMA_CAPABILITIES,
        AnthropicProvider().capabilities,
        OpenAIProvider().capabilities,
    ]
    return [dataclasses.asdict(c) for c in rows]
