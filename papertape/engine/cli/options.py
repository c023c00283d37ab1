"""Argument types shared by the command groups."""

from __future__ import annotations

import argparse

__all__ = ["key_value"]


def key_value(text: str) -> tuple[str, str]:
    """Parse ``key=value`` (for repeatable ``--param``-style options)."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    k, v = text.split("=", 1)
    return k.strip(), v.strip()
