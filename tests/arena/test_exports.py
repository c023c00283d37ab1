from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("name", ["papertape.arena", "papertape.analysis.report"])
def test_all_is_explicit_and_importable(name: str) -> None:
    module = importlib.import_module(name)
    exported = module.__all__
    assert exported and len(set(exported)) == len(exported)
    for member in exported:
        assert hasattr(module, member), f"{name}.__all__ names missing {member}"


def test_baselines_are_registered_strategies() -> None:
    from papertape.engine.registry import build_catalog, make_plugin_manager

    pm, broken = make_plugin_manager(entry_points=False)
    names = set(build_catalog(pm, broken).strategies)
    assert {"buy_and_hold", "always_flat", "random_trader"} <= names
