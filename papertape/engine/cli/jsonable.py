"""Plain JSON from whatever a strategy reports: numpy values converted, the rest named.

``--json`` must never lose a run's report because ``stats()`` returned a ``numpy.float64``,
an array or an object of its own. :func:`to_json` converts numpy scalars and arrays, tuples,
sets and non-string keys; a non-finite float becomes ``null``; anything else is written as its
text and named (dotted key) in a warning, so the report still comes out.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import PurePath
from typing import Any

import numpy as np

__all__ = ["to_json"]

log = logging.getLogger("papertape.cli")


def to_json(value: Any, key: str = "<root>") -> Any:
    """``value`` as JSON-compatible data (``key`` names it in warnings)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, np.generic):
        return to_json(value.item(), key)
    if isinstance(value, np.ndarray):
        return to_json(value.tolist(), key)
    if isinstance(value, Mapping):
        return {_key_text(k): to_json(v, f"{key}.{k}") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v, f"{key}.{i}") for i, v in enumerate(value)]
    if isinstance(value, set | frozenset):
        return [to_json(v, f"{key}.{i}") for i, v in enumerate(sorted(value, key=repr))]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    log.warning(
        "%s is a %s, which JSON cannot hold; it is written as its text", key, type(value).__name__
    )
    return str(value)


def _key_text(key: Any) -> str:
    if isinstance(key, np.generic):
        key = key.item()
    return key if isinstance(key, str) else str(key)
