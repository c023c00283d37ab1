"""Local decisions from a base model: a few-shot completion, scored and calibrated actions.

The request comes from :func:`plugins.llm.fewshot.build_completion_prompt`: ``system`` is the
few-shot decision log, ``prompt`` today's context ending in ``{"action": "``; the schema's
action enum lists the allowed actions. Two decoders:

- ``fewshot``: the model continues the document under a grammar
  (:func:`plugins.llm.grammar.decision_continuation`) with one branch per allowed action, so
  sizes, stops, targets and its confidence are always in range.
- ``calibrated`` (the default for the packaged base model): the action is chosen by the
  model's next-token probabilities for the allowed actions, divided by a prior and
  renormalised — "calibrate before use" (Zhao et al., 2021), which removes the model's
  standing preference for one label (uncalibrated, the 270M model answers BUY to almost
  anything). The prior is the mean of the same probabilities over eight ordinary reference
  markets with the query's position state (:func:`plugins.llm.fewshot.reference_contexts`),
  i.e. in-domain rather than content-free inputs (Fei et al., 2023): Zhao's ``N/A`` / empty /
  ``[MASK]`` inputs were measured here to be out of distribution for this model (prior BUY
  0.57 against 0.42–0.55 on real contexts), which turned every decision into HOLD. Greedy
  takes the most probable calibrated action; a temperature above 0 samples it, seeded by
  ``seed`` and the prompt. The confidence is that calibrated probability; size, stop, target
  and a short reasoning are then generated under the grammar for the chosen action.

The model is the same shared, locked llama.cpp instance as the chat decoder's. The few-shot
document is evaluated once from an empty context and its state saved; every call (and every
reference market of a prior) starts from that saved state
(:mod:`plugins.llm.providers.local_state`), so an answer and a prior depend on the request
only, never on the calls the process made before.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from papertape.engine.errors import ModelError
from papertape.plugins.llm.appetite import tilted
from papertape.plugins.llm.fewshot import CONTEXT, DECISION_OPENER, reference_contexts
from papertape.plugins.llm.grammar import decision_continuation
from papertape.plugins.llm.providers.base import LlmRequest, LlmResponse
from papertape.plugins.llm.providers.local import LocalProvider, load_llama, model_path
from papertape.plugins.llm.providers.local_state import anchor_tokens, restore_anchor

__all__ = ["DECODERS", "FewShotLocalProvider", "calibrate"]

DECODERS = ("fewshot", "calibrated")
ALL_ACTIONS = ("BUY", "SELL", "HOLD", "CLOSE")
_PRIORS: dict[tuple[int, str, str], dict[str, float]] = {}
_PRIORS_LOCK = threading.Lock()
# Scores and completions of this process, under the model's lock: the same market asked by
# several personas is scored and written once (an answer depends on its request only, so a
# remembered one is the one the model would give again).
_MEMO_SIZE = 256
_SCORES: OrderedDict[tuple[int, str, tuple[str, ...]], dict[str, float]] = OrderedDict()
_COMPLETIONS: OrderedDict[tuple[int, str, str, float, int, int], Any] = OrderedDict()


def calibrate(probs: dict[str, float], prior: dict[str, float]) -> dict[str, float]:
    """Divide by the content-free prior and renormalise (Zhao et al., 2021, diagonal W)."""
    raw = {a: p / max(prior.get(a, 0.0), 1e-12) for a, p in probs.items()}
    total = sum(raw.values())
    if total <= 0.0:
        return {a: 1.0 / len(raw) for a in raw}
    return {a: v / total for a, v in raw.items()}


def _next_token_probs(
    llm: Any, text: str, actions: Sequence[str], anchor: str = ""
) -> dict[str, float]:
    """P(first token of each action | text), renormalised over ``actions``.

    ``anchor`` (the few-shot document beginning ``text``) is restored from its saved state.
    """
    ids: dict[str, int] = {}
    for action in actions:
        toks = llm.tokenize(action.encode("utf-8"), add_bos=False, special=False)
        ids[action] = int(toks[0])
    if len(set(ids.values())) != len(ids):
        raise ModelError(f"actions {list(actions)} share a first token in this model's vocabulary")
    tokens = list(llm.tokenize(text.encode("utf-8"), add_bos=True, special=False))
    # start from the saved state of the few-shot document (never from what the last call
    # left): the same request is evaluated in the same batches, whatever came before
    head = anchor_tokens(llm, anchor, tokens)
    if len(head) >= len(tokens):
        head = []  # the last token must be evaluated: its logits are the ones read below
    restore_anchor(llm, head)
    llm.eval(tokens[len(head) :])
    # llama-cpp keeps no scores without logits_all; the context holds the last token's logits
    logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),))
    picked = np.array([float(logits[ids[a]]) for a in actions])
    picked = np.exp(picked - picked.max())
    picked /= picked.sum()
    return {a: float(p) for a, p in zip(actions, picked, strict=True)}


def _position_of(prompt: str) -> str:
    """The position part of today's context line (the last ``Context:`` line).

    Recalled memories may come before it.
    """
    contexts = [ln for ln in prompt.split("\n") if ln.startswith(CONTEXT)]
    line = contexts[-1] if contexts else prompt.split("\n", 1)[0]
    return line.rsplit("position: ", 1)[-1] if "position: " in line else "none"


def _prior(llm: Any, header: str, position: str) -> dict[str, float]:
    """Mean action probabilities over the reference markets (once per model, header, kind)."""
    kind = position.split(",", 1)[0].strip()
    key = (id(llm), hashlib.sha256(header.encode("utf-8")).hexdigest(), kind)
    with _PRIORS_LOCK:
        hit = _PRIORS.get(key)
    if hit is not None:
        return hit
    runs = [
        _next_token_probs(
            llm, f"{header}{CONTEXT}{ref}\nDecision: {DECISION_OPENER}", ALL_ACTIONS, header
        )
        for ref in reference_contexts(kind)
    ]
    prior = {a: sum(r[a] for r in runs) / len(runs) for a in ALL_ACTIONS}
    with _PRIORS_LOCK:
        _PRIORS[key] = prior
    return prior


def _remember(memo: OrderedDict[Any, Any], key: Any, value: Any) -> None:
    memo[key] = value
    memo.move_to_end(key)
    while len(memo) > _MEMO_SIZE:
        memo.popitem(last=False)


def _scored(llm: Any, request: LlmRequest) -> tuple[dict[str, float], bool]:
    """Calibrated probabilities of the allowed actions, and whether they were remembered.

    Called under the model's lock. Remembered: personas asking about the same market share the
    model's scores (the tilt comes after), so the second costs no model time. A fresh score
    leaves the model in the state the generation continues from.
    """
    actions = [str(a) for a in request.schema["properties"]["action"]["enum"]]
    text = request.system + request.prompt
    key = (id(llm), text, tuple(actions))
    hit = _SCORES.get(key)
    if hit is not None:
        return dict(hit), True
    # the prior first: the generation continues from the state the scoring of this prompt leaves
    prior = _prior(llm, request.system, _position_of(request.prompt))
    probs = _next_token_probs(llm, text, actions, request.system)
    calibrated = calibrate(probs, {a: prior[a] for a in actions})
    _remember(_SCORES, key, calibrated)
    return dict(calibrated), False


def _complete(llm: Any, text: str, gbnf: str, request: LlmRequest) -> Any:
    from llama_cpp.llama_grammar import LlamaGrammar

    return llm.create_completion(
        text,
        grammar=LlamaGrammar.from_string(gbnf, verbose=False),
        temperature=request.temperature,
        seed=request.seed,
        max_tokens=request.max_tokens,
    )


class FewShotLocalProvider(LocalProvider):
    """The local provider with a few-shot completion decoder (``fewshot`` or ``calibrated``).

    Args:
        model: ``gemma3-270m`` (default, packaged) or a path to a GGUF file.
        decode: ``calibrated`` (scored, calibrated action) or ``fewshot`` (generated action).
        n_ctx: Context length in tokens.
        n_threads: CPU threads (0 = llama.cpp's choice).
        max_reasoning: Characters of generated reasoning at most.
    """

    name: ClassVar[str] = "local"

    def __init__(
        self,
        model: str = "",
        *,
        decode: str = "calibrated",
        n_ctx: int = 4096,
        n_threads: int = 0,
        max_reasoning: int = 120,
    ) -> None:
        if decode not in DECODERS:
            raise ValueError(f"decode must be one of {DECODERS}, got {decode!r}")
        super().__init__(model, n_ctx=n_ctx, n_threads=n_threads)
        self.decode = decode
        self.max_reasoning = max_reasoning

    def identity(self) -> dict[str, Any]:
        """The local identity plus the decoder (a different decoder answers differently)."""
        return {**super().identity(), "decode": self.decode}

    def _choose(self, probs: dict[str, float], request: LlmRequest) -> str:
        if request.temperature <= 0.0:
            return max(probs, key=lambda a: (probs[a], -list(probs).index(a)))
        weights = [p ** (1.0 / request.temperature) for p in probs.values()]
        salt = hashlib.sha256(request.prompt.encode("utf-8")).hexdigest()[:16]
        rng = random.Random(f"{request.seed}:{salt}")
        return rng.choices(list(probs), weights=weights)[0]

    def action_probs(self, request: LlmRequest) -> dict[str, float]:
        """The calibrated probabilities of the request's allowed actions, before any tilt."""
        llm, lock = load_llama(model_path(self.model), self.n_ctx, self.n_threads)
        with lock:
            probs, _ = _scored(llm, request)
        return probs

    def _decide(self, request: LlmRequest) -> LlmResponse:
        actions = [str(a) for a in request.schema["properties"]["action"]["enum"]]
        llm, lock = load_llama(model_path(self.model), self.n_ctx, self.n_threads)
        text = request.system + request.prompt
        confidence: float | None = None
        with lock:
            try:
                remembered = False
                if self.decode == "calibrated":
                    probs, remembered = _scored(llm, request)
                    # the persona's risk appetite weighs the actions; the confidence stays
                    # the model's calibrated belief in the action taken
                    choice = self._choose(tilted(probs, request.tilt), request)
                    confidence = round(probs[choice], 4)
                    actions = [choice]
                else:
                    tokens = list(llm.tokenize(text.encode("utf-8"), add_bos=True, special=False))
                    restore_anchor(llm, anchor_tokens(llm, request.system, tokens))
                gbnf = decision_continuation(
                    request.schema,
                    actions,
                    with_confidence=confidence is None,
                    max_reasoning=self.max_reasoning,
                )
                memo = (id(llm), text, gbnf, request.temperature, request.seed, request.max_tokens)
                out = _COMPLETIONS.get(memo) if confidence is not None else None
                if out is None:
                    if remembered:  # the generation continues from the scoring's state
                        _next_token_probs(llm, text, [actions[0]], request.system)
                    out = _complete(llm, text, gbnf, request)
                    if confidence is not None:
                        _remember(_COMPLETIONS, memo, out)
            except ModelError:
                raise
            except Exception as exc:  # context overflow, decode failure, grammar error
                raise ModelError(f"llama.cpp: {type(exc).__name__}: {exc}"[:300]) from exc
        choice_out = out["choices"][0]
        usage = out.get("usage") or {}
        finish = str(choice_out.get("finish_reason") or "stop")
        body = DECISION_OPENER + str(choice_out.get("text") or "")
        if confidence is not None and finish != "length":
            body = _with_confidence(body, confidence)
        return LlmResponse(
            text=body,
            tokens_in=int(usage.get("prompt_tokens", 0)),
            tokens_out=int(usage.get("completion_tokens", 0)),
            cost=0.0,
            stop_reason=finish,
            truncated=finish == "length",
            model=self.model,
        )

    async def complete(self, request: LlmRequest) -> LlmResponse:
        """Score and generate in a worker thread (the event loop stays free)."""
        return await asyncio.to_thread(self._decide, request)


def _with_confidence(body: str, confidence: float) -> str:
    """Insert the calibrated confidence before the reasoning (text stays as generated)."""
    try:
        obj = json.loads(body)
    except ValueError:
        return body  # left for validation to report
    out = {k: v for k, v in obj.items() if k != "reasoning"}
    out["confidence"] = confidence
    out["reasoning"] = obj.get("reasoning", "")
    return json.dumps(out, ensure_ascii=False)
