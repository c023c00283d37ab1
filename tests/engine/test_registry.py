"""Plugin discovery: built-ins, drop-in files, entry points, clashes and misspelt hooks."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from papertape.engine.errors import PluginError, UnknownParameter, UnknownStrategy
from papertape.engine.registry import build_catalog, make_plugin_manager

DROPIN = """
from papertape.engine.strategy import Strategy
from papertape.engine.execution.orders import Signal

class Breakout(Strategy):
    name = "my_breakout"
    defaults = {"lookback": 20}

    def on_bar(self, snap, portfolio):
        highs = snap.window("high", self.p.lookback + 1)
        if len(highs) > self.p.lookback and snap.price > highs[:-1].max():
            return Signal.long("new high")
        return None
"""


def catalog(*dirs: Path, entry_points: bool = False):  # type: ignore[no-untyped-def]
    pm, broken = make_plugin_manager(dirs, entry_points=entry_points)
    return build_catalog(pm, broken)


def test_builtins_are_registered() -> None:
    cat = catalog()
    assert {"sma_cross"} <= set(cat.strategies)
    assert {"fixed", "fraction", "vol_target", "kelly"} <= set(cat.sizers)
    assert {"max_drawdown", "loss_streak", "cooldown", "daily_loss", "exposure_cap"} <= set(
        cat.shields
    )


def test_dropin_file_is_discovered(tmp_path: Path) -> None:
    (tmp_path / "breakout.py").write_text(DROPIN)
    cat = catalog(tmp_path)
    cls = cat.strategy("my_breakout")
    assert cls(lookback=5).p.lookback == 5
    with pytest.raises(UnknownParameter, match="lookbak"):
        cls(lookbak=5)


def test_broken_dropin_is_reported_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "good.py").write_text(DROPIN)
    (tmp_path / "bad.py").write_text("this is not python(\n")
    cat = catalog(tmp_path)
    assert "my_breakout" in cat.strategies
    assert len(cat.broken) == 1 and cat.broken[0][0].endswith("bad.py")
    with pytest.raises(UnknownStrategy, match=r"bad\.py"):
        cat.strategy("whatever")


def test_duplicate_names_are_an_error(tmp_path: Path) -> None:
    (tmp_path / "one.py").write_text(DROPIN)
    (tmp_path / "two.py").write_text(DROPIN.replace("class Breakout", "class Other"))
    with pytest.raises(PluginError, match="strategy name 'my_breakout' is taken twice"):
        catalog(tmp_path)


def test_a_folder_named_twice_is_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `--strategy-dir strategies` from a folder holding strategies/ (read anyway) failed with
    # "the strategy name 'breakout' is taken twice: <the same class> and <the same class>"
    (tmp_path / "strategies").mkdir()
    (tmp_path / "strategies" / "breakout.py").write_text(DROPIN)
    monkeypatch.chdir(tmp_path)
    cat = catalog(Path("strategies"), tmp_path / "strategies", Path("./strategies/"))
    assert "my_breakout" in cat.strategies


def test_misspelt_hook_fails_at_start(tmp_path: Path) -> None:
    (tmp_path / "typo.py").write_text(
        textwrap.dedent("""
        from papertape.engine.hookspecs import hookimpl

        @hookimpl
        def papertape_evnet(event):
            pass
    """)
    )
    with pytest.raises(PluginError, match="papertape_evnet"):
        make_plugin_manager([tmp_path], entry_points=False)


def test_entry_point_plugins_are_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "thirdparty_strats.py"
    pkg.write_text(
        textwrap.dedent("""
        from papertape.engine.hookspecs import hookimpl
        from papertape.engine.strategy import Strategy

        class Hodl(Strategy):
            name = "hodl_ep"

            def on_bar(self, snap, portfolio):
                return None

        @hookimpl
        def papertape_strategies():
            return [Hodl]
    """)
    )
    dist = tmp_path / "thirdparty_strats-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty-strats\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[papertape]\nhodl = thirdparty_strats\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        cat = catalog(entry_points=True)
        assert "hodl_ep" in cat.strategies
    finally:
        sys.modules.pop("thirdparty_strats", None)


def test_unknown_strategy_lists_the_available_ones() -> None:
    with pytest.raises(UnknownStrategy, match="sma_cross"):
        catalog().strategy("nope")
