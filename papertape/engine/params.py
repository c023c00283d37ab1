"""Declared, typed parameters for plugins (strategies, sizers, shields).

A plugin class declares ``defaults = {"fast": 10, "slow": 30}``; :func:`resolve_params` merges
user values over them, coerces strings from the command line to the default's type and refuses
names the plugin does not take.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from papertape.engine.errors import ConfigError, UnknownParameter

__all__ = ["check_number", "coerce", "resolve_params"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def coerce(key: str, value: Any, default: Any) -> Any:
    """Convert ``value`` to the type of ``default`` (strings from the CLI included)."""
    if default is None or value is None:
        return value
    kind = type(default)
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise ValueError(value)
        if kind is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            if isinstance(value, bool):
                raise ValueError(value)
            return int(value) if not isinstance(value, str) else int(value.strip())
        if kind is float:
            if isinstance(value, bool):
                raise ValueError(value)
            return float(value)
        if kind is str:
            return str(value)
    except (TypeError, ValueError):
        raise ConfigError(key, value, f"expected {kind.__name__}") from None
    return value


def check_number(key: str, value: Any, *, non_negative: bool = False) -> None:
    """Refuse a non-finite number (and a negative one with ``non_negative``), naming ``key``.

    Raises:
        ConfigError: ``value`` is nan or infinite, or negative when it must not be.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(key, value, "must be a finite number")
    if non_negative and value < 0:
        raise ConfigError(key, value, "must be >= 0")


def resolve_params(
    owner: str,
    defaults: Mapping[str, Any],
    given: Mapping[str, Any],
    prefix: str = "params",
    *,
    non_negative: bool = False,
) -> dict[str, Any]:
    """Merge ``given`` over ``defaults`` with coercion; unknown names raise UnknownParameter.

    Every number must be finite; with ``non_negative`` (sizers, shields: sizes, fractions,
    limits and counts) also >= 0. Errors name the key as ``<prefix>.<name>``.
    """
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        known = ", ".join(sorted(defaults)) or "none"
        raise UnknownParameter(
            f"{owner} has no parameter {', '.join(repr(u) for u in unknown)} (it takes: {known})"
        )
    merged = dict(defaults)
    for k, v in given.items():
        check_number(f"{prefix}.{k}", v)
        merged[k] = coerce(f"{prefix}.{k}", v, defaults[k])
        check_number(f"{prefix}.{k}", merged[k], non_negative=non_negative)
    return merged
