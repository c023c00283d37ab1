"""Ollama backend through the official ``ollama`` client (``AsyncClient.chat``).

The decision's JSON schema goes in ``format=`` (Ollama compiles it into a grammar), temperature
and seed go in ``options``; the host comes from the ``host`` parameter or ``OLLAMA_HOST``
(the client's own default, ``127.0.0.1:11434``, otherwise). Ollama is free to run, so the
cost is zero; token counts are ``prompt_eval_count`` and ``eval_count``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, ClassVar

from papertape.engine.errors import ModelError
from papertape.plugins.llm.providers.base import (
    Capabilities,
    LlmRequest,
    LlmResponse,
    LoopBoundProvider,
)

if TYPE_CHECKING:
    import ollama

__all__ = ["DEFAULT_OLLAMA_MODEL", "OLLAMA_CAPABILITIES", "OllamaProvider"]

DEFAULT_OLLAMA_MODEL = "llama3.2"
OLLAMA_CAPABILITIES = Capabilities(
    provider="ollama",
    structured_output="JSON schema in format= (server-side grammar)",
    seed=True,
    offline=True,
)


class OllamaProvider(LoopBoundProvider["ollama.AsyncClient"]):
    """Chat completions from an Ollama server.

    Args:
        model: Ollama model tag (``llama3.2``, ``qwen2.5:7b``...).
        host: Server URL; empty means ``OLLAMA_HOST`` or the client's default.
        timeout: Seconds for one HTTP request.
    """

    name: ClassVar[str] = "ollama"

    def __init__(self, model: str = "", *, host: str = "", timeout: float = 60.0) -> None:
        super().__init__(model or DEFAULT_OLLAMA_MODEL)
        self.host = host or os.environ.get("OLLAMA_HOST", "")
        self.timeout = timeout

    @property
    def capabilities(self) -> Capabilities:
        """Ollama's row of the capability table."""
        return OLLAMA_CAPABILITIES

    def _new_client(self) -> ollama.AsyncClient:
        try:
            import ollama
        except ImportError as exc:
            raise ModelError("the ollama provider needs `pip install ollama`") from exc
        return ollama.AsyncClient(host=self.host or None, timeout=self.timeout)

    async def complete(self, request: LlmRequest) -> LlmResponse:
        """One non-streaming ``/api/chat`` call with ``format=`` the request's schema."""
        import httpx
        import ollama

        client = self._client_for_loop()
        options: dict[str, Any] = {
            "temperature": request.temperature,
            "seed": request.seed,
            "num_predict": request.max_tokens,
        }
        try:
            resp = await client.chat(
                model=self.model,
                messages=[
                    {"role": "system", "content": request.system},
                    {"role": "user", "content": request.prompt},
                ],
                format=dict(request.schema),
                options=options,
                stream=False,
            )
        except ollama.ResponseError as exc:
            raise ModelError(f"ollama HTTP {exc.status_code}: {exc.error}"[:300]) from None
        except httpx.TimeoutException:
            raise TimeoutError(f"ollama did not answer within {self.timeout}s") from None
        except (httpx.HTTPError, ConnectionError, OSError) as exc:
            raise ModelError(f"ollama: {type(exc).__name__}: {exc}"[:300]) from None
        except ValueError as exc:  # a body that is not the documented JSON
            raise ModelError(f"ollama: unreadable response: {exc}"[:300]) from None
        stop = resp.done_reason or "stop"
        return LlmResponse(
            text=resp.message.content or "",
            tokens_in=int(resp.prompt_eval_count or 0),
            tokens_out=int(resp.eval_count or 0),
            cost=0.0,
            stop_reason=stop,
            truncated=stop == "length",
            model=resp.model or self.model,
        )

    def __repr__(self) -> str:
        return f"OllamaProvider(model={self.model!r}, host={self.host or 'default'!r})"
