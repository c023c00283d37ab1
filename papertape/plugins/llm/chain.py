"""Fallback chains: the models a trader asks in turn when one is down.

``models = [a, b, c]`` in a trader's params names the chain; each entry is either a string
``"provider:model"`` (``"local"``, ``"ollama:llama3.2"``, ``"openai:gpt-4.1-mini"``) or a table
of provider options (``{provider = "openai", model = "deepseek-chat", base_url = "...",
api_key_env = "DEEPSEEK_API_KEY"}``). An entry is self-contained: what it does not set takes
the trader's *defaults*, not the trader's own endpoint, so a chain never sends one provider's
URL to another. Without ``models`` the chain is the trader's own ``provider`` and ``model``.

A decision asks the first model; when the call fails, times out or is refused
(:data:`FALLBACK_CODES`: a provider reason, not a bad answer) the next one is asked, and the
journal's ``provider`` / ``model`` say which one answered, its ``detail`` which ones failed.
Each attempt is cached and budgeted like a single call, so a replay follows the same path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from papertape.engine.errors import ConfigError
from papertape.plugins.llm.calls import missing_credential
from papertape.plugins.llm.providers import DECODERS, PROVIDERS, Provider, make_provider
from papertape.plugins.llm.providers.local import DEFAULT_LOCAL_MODEL
from papertape.plugins.llm.schema import ReasonCode

__all__ = [
    "FAILED_CALL_CODES",
    "FALLBACK_CODES",
    "LINK_KEYS",
    "ModelLink",
    "build_chain",
    "link_specs",
    "resolve_decode",
    "unreachable_chain",
]

FALLBACK_CODES = frozenset({ReasonCode.TIMEOUT, ReasonCode.PROVIDER_ERROR, ReasonCode.REFUSAL})
# A model call that failed (no answer at all): a streak of these gives up (max_failed_calls)
FAILED_CALL_CODES = frozenset({ReasonCode.TIMEOUT, ReasonCode.PROVIDER_ERROR})
LINK_KEYS = (
    "provider",
    "model",
    "base_url",
    "host",
    "api_key_env",
    "structured",
    "decode",
    "price_in",
    "price_out",
)


@dataclass(frozen=True, slots=True)
class ModelLink:
    """One model of a chain.

    Attributes:
        label: ``provider:model`` as journaled in a fallback's detail.
        provider: The backend.
        identity: Its cache identity.
        completion: True when it decides from the few-shot completion prompt.
        decode: The resolved decoder (``chat``, ``fewshot``, ``calibrated``); the calibrated
            one reads the persona as a tilt of its action probabilities.
    """

    label: str
    provider: Provider
    identity: dict[str, Any]
    completion: bool
    decode: str = "chat"


def resolve_decode(spec: Mapping[str, Any]) -> str:
    """``auto`` becomes ``calibrated`` for the packaged local base model, else ``chat``."""
    mode = str(spec.get("decode", "auto"))
    if mode != "auto":
        return mode
    local_base = spec["provider"] == "local" and spec.get("model", "") in ("", DEFAULT_LOCAL_MODEL)
    return "calibrated" if local_base else "chat"


def link_specs(
    own: Mapping[str, Any], models: Sequence[Any], defaults: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The provider options of every model in the chain.

    Args:
        own: The trader's resolved params (the chain when ``models`` is empty).
        models: The ``models`` param: strings ``provider:model`` or tables (from the command
            line, one comma-separated string: ``--param models=openai:gpt-4.1-mini,local``).
        defaults: The trader's declared defaults (what an entry does not set).

    Raises:
        ConfigError: For an entry of the wrong type, an unknown key or provider.
    """
    if isinstance(models, str):
        models = [m.strip() for m in models.split(",") if m.strip()]
    if not models:
        return [{k: own[k] for k in LINK_KEYS}]
    base = {k: defaults[k] for k in LINK_KEYS}
    specs = []
    for i, entry in enumerate(models):
        where = f"params.models[{i}]"
        if isinstance(entry, str):
            provider, _, model = entry.partition(":")
            spec = {**base, "provider": provider.strip(), "model": model.strip()}
        elif isinstance(entry, Mapping):
            unknown = sorted(set(entry) - set(LINK_KEYS))
            if unknown:
                raise ConfigError(where, entry, f"unknown keys {unknown}; known: {LINK_KEYS}")
            spec = {**base, **entry}
        else:
            raise ConfigError(where, entry, 'a "provider:model" string or a table')
        if spec["provider"] not in PROVIDERS:
            raise ConfigError(where, entry, f"provider must be one of {', '.join(PROVIDERS)}")
        specs.append(spec)
    return specs


def build_chain(
    specs: Sequence[Mapping[str, Any]],
    *,
    timeout: float,
    max_retries: int,
    n_ctx: int,
    n_threads: int,
) -> list[ModelLink]:
    """Create the providers (nothing is loaded or connected yet)."""
    chain = []
    for spec in specs:
        decode = resolve_decode(spec)
        provider = make_provider(
            spec["provider"],
            spec["model"],
            timeout=timeout,
            host=spec["host"],
            base_url=spec["base_url"],
            max_retries=max_retries,
            n_ctx=n_ctx,
            n_threads=n_threads,
            decode=decode,
            api_key_env=spec["api_key_env"],
            structured=spec["structured"],
            price_in=float(spec["price_in"]),
            price_out=float(spec["price_out"]),
        )
        label = f"{provider.name}:{provider.model}"
        chain.append(ModelLink(label, provider, provider.identity(), decode in DECODERS, decode))
    return chain


def unreachable_chain(spec: Mapping[str, Any], defaults: Mapping[str, Any]) -> str:
    """``"<provider>: <reason>"`` of every model of the chain, when none of them is reachable."""
    why: list[str] = []
    for link in link_specs(spec, spec.get("models") or (), defaults):
        provider = str(link["provider"])
        missing = missing_credential(provider, str(link.get("api_key_env") or ""))
        if not missing:
            return ""
        if f"{provider}: {missing}" not in why:
            why.append(f"{provider}: {missing}")
    return "; ".join(why)
