"""The provider contract: one async call from a prompt and a JSON schema to structured text.

A provider hides one backend (llama.cpp in-process, an Ollama server, the Anthropic API)
behind :meth:`Provider.complete`. It returns the raw structured output with token counts and
cost, or raises: :class:`~engine.errors.ModelError` for a failed call (the backend's own
exceptions are translated here, at the boundary) and :class:`TimeoutError` when the backend
gave up waiting. It never validates the decision itself; that is the trader's job, so every
backend's output goes through the same checks.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Protocol, TypeVar

__all__ = [
    "Capabilities",
    "LlmRequest",
    "LlmResponse",
    "LoopBoundProvider",
    "Provider",
    "prefix_price",
]


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a backend can do and what it costs.

    Attributes:
        provider: Backend name (``local``, ``ollama``, ``anthropic``).
        structured_output: How the JSON schema is enforced by the backend.
        seed: Whether a sampling seed is honoured (reproducible sampling).
        offline: Whether it works without any network.
        temperature: Whether the sampling temperature is honoured.
        cost_in_per_mtok: USD per million input tokens.
        cost_out_per_mtok: USD per million output tokens.
    """

    provider: str
    structured_output: str
    seed: bool
    offline: bool
    temperature: bool = True
    cost_in_per_mtok: float = 0.0
    cost_out_per_mtok: float = 0.0

    def cost(self, tokens_in: int, tokens_out: int) -> float:
        """USD for one call with these token counts."""
        return (tokens_in * self.cost_in_per_mtok + tokens_out * self.cost_out_per_mtok) / 1e6


@dataclass(frozen=True, slots=True)
class LlmRequest:
    """One structured-output request.

    Attributes:
        system: System prompt (persona and output rules).
        prompt: User prompt (the market context).
        schema: JSON schema the output must follow.
        schema_name: Name of the schema (Anthropic's tool name).
        temperature: Sampling temperature (0 = greedy).
        seed: Sampling seed where the backend honours one.
        max_tokens: Maximum output tokens.
        tilt: Weights of the actions before the calibrated decoder chooses (the persona's
            risk appetite, :mod:`plugins.llm.appetite`); ``()`` = none. Other decoders and
            backends never receive one.
    """

    system: str
    prompt: str
    schema: Mapping[str, Any] = field(repr=False)
    schema_name: str = "decision"
    temperature: float = 0.0
    seed: int = 0
    max_tokens: int = 256
    tilt: tuple[tuple[str, float], ...] = ()

    def params(self) -> dict[str, Any]:
        """The sampling parameters (part of the cache key and the journal).

        A tilt is listed only when there is one, so an untilted request keeps the key it
        always had.
        """
        out: dict[str, Any] = {
            "temperature": self.temperature,
            "seed": self.seed,
            "max_tokens": self.max_tokens,
        }
        if self.tilt:
            out["tilt"] = dict(self.tilt)
        return out


@dataclass(frozen=True, slots=True)
class LlmResponse:
    """A backend's answer, before validation.

    Attributes:
        text: The raw structured output (JSON text).
        tokens_in: Prompt tokens billed or evaluated.
        tokens_out: Output tokens generated.
        cost: USD for this call.
        stop_reason: The backend's own stop reason (``stop``, ``length``, ``tool_use``...).
        refusal: The backend reported that the model refused.
        truncated: The output hit the token limit.
        model: The model name the backend reported.
    """

    text: str
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0
    stop_reason: str = "stop"
    refusal: bool = False
    truncated: bool = False
    model: str = ""


class Provider(ABC):
    """Base class of LLM backends."""

    name: ClassVar[str] = ""

    def __init__(self, model: str) -> None:
        self.model = model

    @property
    @abstractmethod
    def capabilities(self) -> Capabilities:
        """The capability row of this backend and model."""

    def identity(self) -> dict[str, Any]:
        """What identifies the model behind this provider (part of the cache key)."""
        return {"provider": self.name, "model": self.model}

    @abstractmethod
    async def complete(self, request: LlmRequest) -> LlmResponse:
        """Run one request.

        Raises:
            ModelError: The backend failed (connection, HTTP error, bad model, ...).
            TimeoutError: The backend did not answer in time.
        """

    async def aclose(self) -> None:  # noqa: B027 - optional hook, empty by default
        """Release connections (optional)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model!r})"


def prefix_price(
    prices: Mapping[str, tuple[float, float]], model: str
) -> tuple[float, float] | None:
    """USD per million (input, output) tokens of the longest prefix of ``model`` in ``prices``.

    Model names grow by suffix (``gpt-4.1`` < ``gpt-4.1-mini``), so the longest matching
    prefix is the most specific price; None when no prefix matches.
    """
    best = ""
    for prefix in prices:
        if model.startswith(prefix) and len(prefix) > len(best):
            best = prefix
    return prices[best] if best else None


class _AsyncClient(Protocol):
    async def close(self) -> None: ...


ClientT = TypeVar("ClientT", bound=_AsyncClient)


class LoopBoundProvider(Provider, Generic[ClientT]):
    """A backend reached through an SDK's async HTTP client, one client per event loop.

    httpx pools (under the Anthropic, OpenAI and Ollama SDKs) are bound to the event loop that
    first used them, so a provider used from another loop (a new ``asyncio.run``) gets a new
    client; :meth:`aclose` closes the current one.
    """

    def __init__(self, model: str) -> None:
        super().__init__(model)
        self._client: ClientT | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @abstractmethod
    def _new_client(self) -> ClientT:
        """Import the SDK and build a client (raises ModelError when it cannot)."""

    def _client_for_loop(self) -> ClientT:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = self._new_client()
            self._loop = loop
        return self._client

    async def aclose(self) -> None:
        """Close the HTTP client of the current loop."""
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()
