"""Registers the built-in risk shields of :mod:`engine.risk`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from papertape.engine.hookspecs import hookimpl
from papertape.engine.risk import BUILTIN_SHIELDS

if TYPE_CHECKING:
    from collections.abc import Sequence

    from papertape.engine.risk.base import Shield

__all__ = ["papertape_shields"]


@hookimpl
def papertape_shields() -> Sequence[type[Shield]]:
    """Register the built-in shields."""
    return BUILTIN_SHIELDS
