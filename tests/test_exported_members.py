"""Each public package states its API in ``__all__``, and every name listed there exists."""

from __future__ import annotations

import importlib

import pytest

PACKAGES = [
    "engine",
    "engine.risk",
    "engine.journal",
    "engine.indicators",
    "engine.feeds",
    "engine.feeds.kraken",
    "engine.live",
    "ml",
    "ml.regime",
    "plugins.llm",
    "plugins.llm.providers",
]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_explicit_and_importable(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported, f"{name} has no __all__"
    assert len(set(exported)) == len(exported)
    for member in exported:
        assert hasattr(module, member), f"{name}.__all__ names missing {member}"


def test_engine_top_level_api() -> None:
    import engine

    assert {"Engine", "Snapshot", "Signal", "Strategy", "Portfolio", "PapertapeError"} <= set(
        engine.__all__
    )
