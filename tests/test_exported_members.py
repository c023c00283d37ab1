"""Each public package states its API in ``__all__``, and every name listed there exists."""

from __future__ import annotations

import importlib

import pytest

PACKAGES = [
    "papertape",
    "papertape.engine",
    "papertape.engine.risk",
    "papertape.engine.journal",
    "papertape.analysis.journal",
    "papertape.engine.indicators",
    "papertape.engine.feeds",
    "papertape.engine.feeds.kraken",
    "papertape.engine.live",
    "papertape.ml",
    "papertape.ml.regime",
    "papertape.ml.rl",
    "papertape.ml.lstm",
    "papertape.plugins.llm",
    "papertape.plugins.llm.providers",
    "papertape.monitor",
    "papertape.monitor.widgets",
    "papertape.monitor.screens",
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
    from papertape import engine

    assert {"Engine", "Snapshot", "Signal", "Strategy", "Portfolio", "PapertapeError"} <= set(
        engine.__all__
    )


def test_papertape_is_the_one_import_package() -> None:
    import papertape

    assert {"Strategy", "Signal", "Snapshot", "run_session", "load_config"} <= set(
        papertape.__all__
    )
    assert papertape.Strategy is importlib.import_module("papertape.engine").Strategy


def test_a_users_strategies_package_does_not_hide_the_builtins(tmp_path, monkeypatch) -> None:
    """A folder named ``strategies`` on sys.path used to shadow the built-in strategies."""
    import subprocess
    import sys

    (tmp_path / "strategies").mkdir()
    (tmp_path / "strategies" / "__init__.py").write_text("MINE = True\n")
    code = (
        "import strategies; assert strategies.MINE; "
        "from papertape.engine.registry import build_catalog, make_plugin_manager; "
        "pm, broken = make_plugin_manager(entry_points=False); "
        "print(sorted(build_catalog(pm, broken).strategies))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        env={**__import__("os").environ, "PYTHONPATH": str(tmp_path)},
    )
    assert "sma_cross" in out.stdout and "rsi_reversion" in out.stdout
