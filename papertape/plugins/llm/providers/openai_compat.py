"""OpenAI-compatible backend through the official ``openai`` SDK (Chat Completions).

One adapter serves every endpoint that speaks the OpenAI wire format: OpenAI itself, DeepSeek,
xAI, Qwen (DashScope), Gemini's compatible endpoint, OpenRouter, and local servers (vLLM,
LM Studio, Ollama's ``/v1``, llama.cpp's ``llama_cpp.server``). ``base_url`` and ``model``
choose; the key comes from the environment variable named by ``api_key_env`` (default
``OPENAI_API_KEY``; empty for keyless local servers). The key is never a parameter, never
stored on the provider and never in a repr, a log line or the journal.

Structured output differs by endpoint, so :data:`STRUCTURED_OUTPUT` is a capability table by
host: ``json_schema`` (``response_format`` with a strict JSON schema) where supported,
``json_object`` (JSON mode, with the schema both in ``response_format.schema`` — which
llama.cpp's server enforces as a grammar — and in the system prompt) where not. An unknown
host starts with ``json_schema`` and, if the server rejects it (HTTP 400/422, or an error
naming ``response_format`` / ``json_schema`` — llama.cpp's server answers HTTP 500 with a
validation error), falls back to ``json_object`` for the rest of the run. The answer is validated
again by the trader either way.

Cost: :data:`OPENAI_PRICES` (USD per million input / output tokens, by model-name prefix,
longest wins) can be extended with :func:`register_price` or per trader with ``price_in`` /
``price_out``; an unknown model on a loopback server costs 0, elsewhere it is priced
conservatively (and a warning says so), so budgets err on the safe side.
"""

from __future__ import annotations

import json
import logging
import os
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlparse

from papertape.engine.errors import ModelError
from papertape.plugins.llm.providers.base import (
    Capabilities,
    LlmRequest,
    LlmResponse,
    LoopBoundProvider,
    prefix_price,
)

if TYPE_CHECKING:
    import openai

__all__ = [
    "DEFAULT_OPENAI_MODEL",
    "OPENAI_PRICES",
    "STRUCTURED_OUTPUT",
    "OpenAIProvider",
    "openai_price_of",
    "register_price",
    "structured_mode_for",
]

log = logging.getLogger("papertape.llm.openai")

DEFAULT_OPENAI_MODEL = "gpt-4.1-mini"
DEFAULT_KEY_ENV = "OPENAI_API_KEY"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0"})

# USD per million tokens (input, output) by model-name prefix; list prices when written —
# check your provider's page and extend with register_price() or price_in/price_out.
OPENAI_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-5-nano": (0.05, 0.40),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5": (1.25, 10.00),
    "deepseek-chat": (0.27, 1.10),
    "deepseek-reasoner": (0.55, 2.19),
    "grok-4": (3.00, 15.00),
    "grok-3-mini": (0.30, 0.50),
    "qwen-plus": (0.40, 1.20),
    "qwen-max": (1.60, 6.40),
    "gemini-2.5-flash": (0.30, 2.50),
    "gemini-2.5-pro": (1.25, 10.00),
}
_FALLBACK_PRICE = (5.0, 25.0)

# How each known host enforces a schema; unknown hosts probe json_schema, then fall back.
STRUCTURED_OUTPUT: dict[str, str] = {
    "api.openai.com": "json_schema",
    "openrouter.ai": "json_schema",
    "api.x.ai": "json_schema",
    "generativelanguage.googleapis.com": "json_schema",
    "api.deepseek.com": "json_object",
    "dashscope.aliyuncs.com": "json_object",
    "dashscope-intl.aliyuncs.com": "json_object",
}
MODES = ("auto", "json_schema", "json_object")
# OpenAI's reasoning models take max_completion_tokens and only the default temperature
REASONING_PREFIXES = ("gpt-5", "o1", "o3", "o4")


def register_price(prefix: str, usd_in_per_mtok: float, usd_out_per_mtok: float) -> None:
    """Add or replace the price of models whose name starts with ``prefix``."""
    OPENAI_PRICES[prefix] = (float(usd_in_per_mtok), float(usd_out_per_mtok))


def openai_price_of(model: str) -> tuple[float, float] | None:
    """USD per million (input, output) tokens for ``model``, or None when unknown."""
    return prefix_price(OPENAI_PRICES, model)


def _host(base_url: str) -> str:
    return (urlparse(base_url).hostname or "api.openai.com") if base_url else "api.openai.com"


def structured_mode_for(base_url: str) -> str:
    """The table's mode for this endpoint: ``json_schema``, ``json_object`` or ``auto``."""
    return STRUCTURED_OUTPUT.get(_host(base_url), "auto")


class OpenAIProvider(LoopBoundProvider["openai.AsyncOpenAI"]):
    """Chat Completions with ``response_format`` structured output.

    Args:
        model: Model id (``gpt-4.1-mini``, ``deepseek-chat``, ``qwen-plus``...).
        base_url: API base URL, e.g. ``http://127.0.0.1:8000/v1``; empty = OpenAI's.
        api_key_env: Environment variable holding the key ("" = no key, local servers).
        structured: ``auto`` (the capability table, probing unknown hosts), ``json_schema``
            or ``json_object``.
        timeout: Seconds for one HTTP request.
        max_retries: The SDK's retries on connection errors, 429 and 5xx.
        price_in: USD per million input tokens (overrides the table when >= 0).
        price_out: USD per million output tokens (overrides the table when >= 0).
    """

    name: ClassVar[str] = "openai"

    def __init__(
        self,
        model: str = "",
        *,
        base_url: str = "",
        api_key_env: str = DEFAULT_KEY_ENV,
        structured: str = "auto",
        timeout: float = 60.0,
        max_retries: int = 2,
        price_in: float = -1.0,
        price_out: float = -1.0,
    ) -> None:
        super().__init__(model or DEFAULT_OPENAI_MODEL)
        if structured not in MODES:
            raise ValueError(f"structured must be one of {MODES}, got {structured!r}")
        self.base_url = base_url
        self.api_key_env = api_key_env
        self.timeout = timeout
        self.max_retries = max_retries
        self.mode = structured_mode_for(base_url) if structured == "auto" else structured
        self._probing = self.mode == "auto"
        known = openai_price_of(self.model)
        local = _host(base_url) in LOOPBACK
        cin, cout = known or ((0.0, 0.0) if local else _FALLBACK_PRICE)
        if known is None and not local and (price_in < 0 or price_out < 0):
            log.warning(
                "no price known for %s; costing it at $%s/$%s per Mtok", self.model, cin, cout
            )
        self._caps = Capabilities(
            provider="openai",
            structured_output="response_format json_schema (strict), or JSON mode + schema",
            seed=True,
            temperature=True,
            offline=local,
            cost_in_per_mtok=price_in if price_in >= 0 else cin,
            cost_out_per_mtok=price_out if price_out >= 0 else cout,
        )

    @property
    def capabilities(self) -> Capabilities:
        """This endpoint's row of the capability table, priced for this model."""
        return self._caps

    def identity(self) -> dict[str, Any]:
        """Provider, model and endpoint host (another host may serve other weights)."""
        return {"provider": self.name, "model": self.model, "host": _host(self.base_url)}

    def _new_client(self) -> openai.AsyncOpenAI:
        try:
            import openai
        except ImportError as exc:
            raise ModelError("the openai provider needs `pip install openai`") from exc
        key = os.environ.get(self.api_key_env) if self.api_key_env else "unused"
        if not key:
            raise ModelError(
                f"{self.api_key_env} is not set; the key is read from the environment only"
            )
        return openai.AsyncOpenAI(
            api_key=key,
            base_url=self.base_url or None,
            timeout=self.timeout,
            max_retries=self.max_retries,
        )

    def _params(self, request: LlmRequest, mode: str) -> dict[str, Any]:
        system = request.system
        if mode == "json_schema":
            fmt: dict[str, Any] = {
                "type": "json_schema",
                "json_schema": {
                    "name": request.schema_name,
                    "schema": dict(request.schema),
                    "strict": True,
                },
            }
        else:  # JSON mode: llama.cpp's server reads "schema"; others see it in the prompt
            fmt = {"type": "json_object", "schema": dict(request.schema)}
            schema_text = json.dumps(request.schema, separators=(",", ":"))
            system = f"{system}\n\nReply with one JSON object following this schema: {schema_text}"
        params: dict[str, Any] = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": request.prompt},
            ],
            "response_format": fmt,
            "seed": request.seed,
        }
        if self.model.startswith(REASONING_PREFIXES):
            params["max_completion_tokens"] = request.max_tokens
        else:
            params["max_tokens"] = request.max_tokens
            params["temperature"] = request.temperature
        return params

    async def complete(self, request: LlmRequest) -> LlmResponse:
        """One ``chat.completions.create`` call with structured output."""
        import openai

        client = self._client_for_loop()
        mode = "json_schema" if self._probing else self.mode
        try:
            try:
                out = await client.chat.completions.create(**self._params(request, mode))
            except openai.APIStatusError as exc:
                if not (self._probing and _rejects_schema(exc)):
                    raise
                # the server does not take json_schema (llama.cpp's): JSON mode from now on
                log.info("%s rejected json_schema (HTTP %s)", self.base_url, exc.status_code)
                self._probing, self.mode = False, "json_object"
                out = await client.chat.completions.create(**self._params(request, "json_object"))
            else:
                if self._probing:
                    self._probing, self.mode = False, "json_schema"
        except openai.APITimeoutError:
            raise TimeoutError(f"openai did not answer within {self.timeout}s") from None
        except openai.APIStatusError as exc:
            why = f"openai HTTP {exc.status_code}: {_error_of(exc.body)}"
            raise ModelError(why[:300]) from None
        except openai.APIError as exc:
            raise ModelError(f"openai: {type(exc).__name__}: {exc.message}"[:300]) from None
        except ValueError as exc:  # a body that is not the documented JSON
            raise ModelError(f"openai: unreadable response: {exc}"[:300]) from None
        if not out.choices:
            raise ModelError("openai: the response has no choices")
        choice = out.choices[0]
        usage = out.usage
        tokens_in = int(usage.prompt_tokens or 0) if usage is not None else 0
        tokens_out = int(usage.completion_tokens or 0) if usage is not None else 0
        finish = str(choice.finish_reason or "")
        refusal = getattr(choice.message, "refusal", None)
        return LlmResponse(
            text=refusal or choice.message.content or "",
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            cost=self._caps.cost(tokens_in, tokens_out),
            stop_reason=finish,
            refusal=bool(refusal) or finish == "content_filter",
            truncated=finish == "length",
            model=out.model or self.model,
        )

    def __repr__(self) -> str:
        key = f"<from {self.api_key_env}, masked>" if self.api_key_env else "<none>"
        return f"OpenAIProvider(model={self.model!r}, base_url={self.base_url!r}, key={key})"


def _rejects_schema(exc: openai.APIStatusError) -> bool:
    """A rejection of ``response_format`` json_schema (llama.cpp's server answers HTTP 500)."""
    text = f"{_error_of(exc.body)} {exc.message}"
    return exc.status_code in (400, 422) or "json_schema" in text or "response_format" in text


def _error_of(body: object) -> str:
    """``type: message`` of the documented error body (``{"error": {...}}``)."""
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            return f"{err.get('type') or err.get('code') or 'error'}: {err.get('message', '')}"
    return str(body)[:200]
