"""Anthropic backend through the official ``anthropic`` SDK, with strict tool use.

The decision schema becomes the ``input_schema`` of one tool with ``strict: true`` and
``tool_choice`` forces that tool, so the answer arrives as a ``tool_use`` block whose ``input``
matches the schema (the SDK's ``transform_schema`` moves range limits, which strict mode does
not accept, into descriptions; they are enforced again when the decision is validated). A
``refusal`` stop reason is reported as such, ``max_tokens`` as truncated.

Sampling parameters are not sent: the SDK (1.0 and later) dropped ``temperature`` from
``messages.create`` and current Claude models reject it, and the API has no seed. Replays are
exact all the same, because they come from the cache, not from re-sampling.

The API key is read from ``ANTHROPIC_API_KEY`` only: it is never a parameter, never stored on
the provider and never appears in a repr, a log line or the journal.
"""

from __future__ import annotations

import json
import logging
import os
from typing import TYPE_CHECKING, Any, ClassVar

from papertape.engine.errors import ModelError
from papertape.plugins.llm.providers.base import (
    Capabilities,
    LlmRequest,
    LlmResponse,
    LoopBoundProvider,
    prefix_price,
)

if TYPE_CHECKING:
    import anthropic

__all__ = ["ANTHROPIC_PRICES", "DEFAULT_ANTHROPIC_MODEL", "AnthropicProvider", "price_of"]

log = logging.getLogger("papertape.llm.anthropic")

DEFAULT_ANTHROPIC_MODEL = "claude-haiku-4-5"
KEY_ENV = "ANTHROPIC_API_KEY"

# USD per million tokens (input, output), by model-name prefix; the longest prefix wins.
ANTHROPIC_PRICES: dict[str, tuple[float, float]] = {
    "claude-opus-4-5": (5.0, 25.0),
    "claude-opus-4-6": (5.0, 25.0),
    "claude-opus-4-1": (15.0, 75.0),
    "claude-opus-4": (15.0, 75.0),
    "claude-sonnet-4": (3.0, 15.0),
    "claude-3-7-sonnet": (3.0, 15.0),
    "claude-haiku-4-5": (1.0, 5.0),
    "claude-3-5-haiku": (0.8, 4.0),
    "claude-3-haiku": (0.25, 1.25),
}
_FALLBACK_PRICE = (5.0, 25.0)  # unknown model: assume an expensive one, so budgets err on safety


def price_of(model: str) -> tuple[float, float]:
    """USD per million (input, output) tokens for ``model`` (conservative when unknown)."""
    return prefix_price(ANTHROPIC_PRICES, model) or _FALLBACK_PRICE


class AnthropicProvider(LoopBoundProvider["anthropic.AsyncAnthropic"]):
    """Messages API calls with one strict, forced tool.

    Args:
        model: Claude model id (``claude-haiku-4-5``, ``claude-sonnet-4-5``...).
        base_url: API base URL; empty means the SDK's default (or ``ANTHROPIC_BASE_URL``).
        timeout: Seconds for one HTTP request.
        max_retries: The SDK's retries on connection errors, 429 and 5xx (with backoff).
    """

    name: ClassVar[str] = "anthropic"

    def __init__(
        self,
        model: str = "",
        *,
        base_url: str = "",
        timeout: float = 60.0,
        max_retries: int = 2,
    ) -> None:
        super().__init__(model or DEFAULT_ANTHROPIC_MODEL)
        self.base_url = base_url
        self.timeout = timeout
        self.max_retries = max_retries
        cin, cout = price_of(self.model)
        if not any(self.model.startswith(p) for p in ANTHROPIC_PRICES):
            log.warning(
                "no price known for %s; costing it at $%s/$%s per Mtok", self.model, cin, cout
            )
        self._caps = Capabilities(
            provider="anthropic",
            structured_output="strict tool use (forced tool_choice, input_schema)",
            seed=False,
            temperature=False,
            offline=False,
            cost_in_per_mtok=cin,
            cost_out_per_mtok=cout,
        )

    @property
    def capabilities(self) -> Capabilities:
        """Anthropic's row of the capability table, priced for this model."""
        return self._caps

    def _new_client(self) -> anthropic.AsyncAnthropic:
        try:
            import anthropic
        except ImportError as exc:
            raise ModelError("the anthropic provider needs `pip install anthropic`") from exc
        key = os.environ.get(KEY_ENV)
        if not key:
            raise ModelError(f"{KEY_ENV} is not set; the key is read from the environment only")
        return anthropic.AsyncAnthropic(
            api_key=key,
            base_url=self.base_url or None,
            timeout=self.timeout,
            max_retries=self.max_retries,
        )

    async def complete(self, request: LlmRequest) -> LlmResponse:
        """One ``messages.create`` call forcing the strict decision tool."""
        import anthropic

        client = self._client_for_loop()
        tool: dict[str, Any] = {
            "name": request.schema_name,
            "description": "Submit your answer. Call this exactly once.",
            "input_schema": anthropic.transform_schema(dict(request.schema)),
            "strict": True,
        }
        params: dict[str, Any] = {
            "model": self.model,
            "max_tokens": request.max_tokens,
            "system": request.system,
            "messages": [{"role": "user", "content": request.prompt}],
            "tools": [tool],
            "tool_choice": {"type": "tool", "name": request.schema_name},
        }
        try:
            msg = await client.messages.create(**params)
        except anthropic.APITimeoutError:
            raise TimeoutError(f"anthropic did not answer within {self.timeout}s") from None
        except anthropic.APIStatusError as exc:
            kind, text = _error_of(exc.body)
            raise ModelError(f"anthropic HTTP {exc.status_code}: {kind}: {text}"[:300]) from None
        except anthropic.APIError as exc:
            raise ModelError(f"anthropic: {type(exc).__name__}: {exc.message}"[:300]) from None
        except ValueError as exc:  # a body that is not the documented JSON
            raise ModelError(f"anthropic: unreadable response: {exc}"[:300]) from None
        tokens_in = int(msg.usage.input_tokens or 0)
        tokens_out = int(msg.usage.output_tokens or 0)
        stop = str(msg.stop_reason or "")
        text = ""
        for block in msg.content:
            if block.type == "tool_use" and block.name == request.schema_name:
                text = json.dumps(block.input, ensure_ascii=False)
                break
        else:
            text = "".join(b.text for b in msg.content if b.type == "text")
        return LlmResponse(
            text=text,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            cost=self._caps.cost(tokens_in, tokens_out),
            stop_reason=stop,
            refusal=stop == "refusal",
            truncated=stop in ("max_tokens", "model_context_window_exceeded"),
            model=msg.model or self.model,
        )

    def __repr__(self) -> str:
        return f"AnthropicProvider(model={self.model!r}, key=<from {KEY_ENV}, masked>)"


def _error_of(body: object) -> tuple[str, str]:
    """The ``error.type`` and ``error.message`` of Anthropic's documented error body."""
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            return str(err.get("type", "error")), str(err.get("message", ""))
    return "error", str(body)[:200]
