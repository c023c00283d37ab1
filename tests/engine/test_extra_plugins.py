"""An extra plugin handed to a session is checked like every other: a misspelt hook fails."""

from __future__ import annotations

from typing import Any

import pytest

from papertape.engine.config import parse_config
from papertape.engine.errors import PluginError
from papertape.engine.hookspecs import hookimpl
from papertape.engine.session import build_engine
from tests.conftest import flat_bars


class _Retired:
    """Implements the per-event hook that ``papertape_events`` replaced."""

    @hookimpl
    def papertape_event(self, event: Any) -> None:  # pragma: no cover - must never be called
        raise AssertionError


def test_an_extra_plugin_with_an_unknown_hook_fails_at_start(tmp_path) -> None:
    config = parse_config(
        {
            "run": {"name": "x"},
            "data": [{"path": "unused.csv", "symbol": "X"}],
            "strategies": [{"name": "sma_cross", "params": {"fast": 2, "slow": 3}}],
            "journal": {"enabled": False},
            "plugins": {"entry_points": False},
        },
        tmp_path,
    )
    with pytest.raises(PluginError, match="papertape_event"):
        build_engine(config, [flat_bars([1, 2, 3, 4])], extra_plugins=[_Retired()])
