"""``--tui`` on the command line: what it refuses before any monitor opens (exit 2, a reason)."""

from __future__ import annotations

from pathlib import Path

import pytest

from papertape.engine.cli.main import main
from tests.arena.conftest import arena_raw
from tests.arena.test_cli import _toml


def test_arena_tui_needs_the_windows_journals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = arena_raw(tmp_path / "journals")
    raw["journal"] = {"enabled": False, "dir": str(tmp_path / "journals")}
    config = _toml(raw, tmp_path / "arena.toml")
    assert main(["arena", str(config), "--tui"]) == 2
    err = capsys.readouterr().err
    assert "journal.enabled" in err and "--tui" in err


def test_run_tui_needs_the_journal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "run.toml"
    demo = (Path(__file__).resolve().parents[2] / "configs" / "demo.toml").read_text()
    config.write_text(demo.replace("[journal]", "[journal]\nenabled = false", 1))
    assert "enabled = false" in config.read_text()
    assert main(["run", str(config), "--tui"]) == 2
    err = capsys.readouterr().err
    assert "journal.enabled" in err and "--tui" in err
