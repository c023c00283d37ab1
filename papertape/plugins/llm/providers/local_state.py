"""Fixed starting states of the shared llama.cpp model, so an answer depends on its request only.

llama-cpp-python reuses, for a new prompt, whatever part of the previous call's KV cache
matches it. The reused part was computed in batches cut where the *previous* call's prompt
happened to be cut, and llama.cpp's numbers depend on those cuts (measured on Gemma 3 270M:
the last logits of one prompt moved by up to 0.9 between a whole-prompt evaluation and one
split elsewhere), so an answer depended on what the process asked before: a different
action, confidence or generated token between a cold 1-worker and a cold 2-worker sweep.

Every call therefore starts from a fixed state:

- :func:`restore_anchor` puts the model in the state of a fixed prefix of the prompt (the
  few-shot document), evaluated once from an empty context and saved with llama.cpp's
  sequence-state API (``llama_state_seq_get_data``); later calls copy it back instead of
  prefix matching on whatever the last call left. The rest of the prompt is then evaluated
  from there, in the same batches every time.
- :func:`clear` empties the context (free-form chat generation evaluates its whole prompt).
"""

from __future__ import annotations

import ctypes
import threading
from collections import OrderedDict
from typing import Any

from papertape.engine.errors import ModelError

__all__ = ["MAX_ANCHORS", "anchor_tokens", "clear", "restore_anchor"]

MAX_ANCHORS = 8  # saved prefix states kept per process (one per few-shot document in use)

_STATES: OrderedDict[tuple[int, tuple[int, ...]], bytes] = OrderedDict()
_STATES_LOCK = threading.Lock()


def clear(llm: Any) -> None:
    """Empty the model's context: the next evaluation starts from position 0 and no cells."""
    import llama_cpp

    memory = llama_cpp.llama_get_memory(llm._ctx.ctx)
    if memory is not None:
        llama_cpp.llama_memory_clear(memory, True)
    llm.n_tokens = 0


def anchor_tokens(llm: Any, anchor: str, tokens: list[int]) -> list[int]:
    """The tokens of ``anchor`` that begin ``tokens`` (a fixed state to start from).

    The last token of ``anchor`` is left out: the tokenizer may merge it with the text that
    follows. An anchor that does not begin the prompt gives no tokens (start from empty).
    """
    if not anchor:
        return []
    head = list(llm.tokenize(anchor.encode("utf-8"), add_bos=True, special=False))[:-1]
    return head if tokens[: len(head)] == head else []


def restore_anchor(llm: Any, head: list[int]) -> None:
    """Put the model (under its lock) in the state of ``head`` evaluated from empty.

    The first call for a ``head`` evaluates and saves it; later calls restore the saved bytes.

    Raises:
        ModelError: llama.cpp could not save or restore the state.
    """
    import llama_cpp

    clear(llm)
    if not head:
        return
    key = (id(llm), tuple(head))
    with _STATES_LOCK:
        saved = _STATES.get(key)
        if saved is not None:
            _STATES.move_to_end(key)
    ctx = llm._ctx.ctx
    if saved is None:
        llm.eval(head)
        size = int(llama_cpp.llama_state_seq_get_size(ctx, 0))
        buf = (ctypes.c_uint8 * size)()
        written = int(llama_cpp.llama_state_seq_get_data(ctx, buf, size, 0))
        if written <= 0:
            raise ModelError("llama.cpp: cannot save the few-shot document's state")
        with _STATES_LOCK:
            _STATES[key] = bytes(buf)[:written]
            while len(_STATES) > MAX_ANCHORS:
                _STATES.popitem(last=False)
        return  # the context now holds exactly the saved state
    buf = (ctypes.c_uint8 * len(saved)).from_buffer_copy(saved)
    if int(llama_cpp.llama_state_seq_set_data(ctx, buf, len(saved), 0)) != len(saved):
        clear(llm)
        raise ModelError("llama.cpp: cannot restore the few-shot document's state")
    llm.input_ids[: len(head)] = head
    llm.n_tokens = len(head)
