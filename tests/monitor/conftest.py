"""Fixtures of the monitor tests: the recorded demo run and arena, small configs that run fast."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from papertape.arena import parse_arena_config
from papertape.arena.watch import PROGRESS_FILE
from papertape.engine.config import RunConfig, load_config, parse_config
from papertape.engine.watch import RUN_DIR_FILE
from papertape.monitor.arena_session import ArenaSession
from tests.monitor.data.record_arena import raw_config

ROOT = Path(__file__).resolve().parents[2]
DEMO = Path(__file__).parent / "data" / "demo"
ARENA = Path(__file__).parent / "data" / "arena"


@pytest.fixture
def demo_dir() -> Path:
    """A finished run folder (configs/demo.toml's journal, LLM decisions included)."""
    return DEMO


class RecordedArena(ArenaSession):
    """``arena --tui``'s source once its arena ended: the hand-over folder, no child process.

    The folder holds what the child left there (``progress.json`` with the leaderboard of
    both windows, ``run_dir`` naming the last window's journal); :meth:`running` is False, as
    for the real session after its child exited, so nothing about the picture depends on time.
    """

    def __init__(self, handover: Path, journals: Path) -> None:
        super().__init__(parse_arena_config(raw_config(journals), ROOT / "configs"), poll=0.01)
        self.cleanup()  # the fresh hand-over folder the session made: the recorded one instead
        self.folder = handover


def arena_handover(tmp_path: Path) -> Path:
    """A hand-over folder as ``data/record_arena.py``'s arena left it, in ``tmp_path``.

    ``progress.json`` says 2 of 2 windows done; ``run_dir`` names a copy of the last window.
    """
    handover = tmp_path / "handover"
    handover.mkdir()
    shutil.copy(ARENA / PROGRESS_FILE, handover / PROGRESS_FILE)
    window = shutil.copytree(ARENA / "window", tmp_path / "window")
    (handover / RUN_DIR_FILE).write_text(str(window), encoding="utf-8")
    return handover


@pytest.fixture
def recorded_arena(tmp_path: Path) -> Iterator[RecordedArena]:
    """The arena of ``data/record_arena.py`` at its end (2 of 2 windows done)."""
    session = RecordedArena(arena_handover(tmp_path), tmp_path / "journals")
    yield session
    session.close()


def quick_config(journal_dir: Path, **run: Any) -> RunConfig:
    """configs/demo.toml without its LLM trader, journaled under ``journal_dir``."""
    data = load_config(ROOT / "configs" / "demo.toml").canonical()
    data["strategies"] = [s for s in data["strategies"] if s["name"] != "llm_trader"]
    data["journal"]["dir"] = str(journal_dir)
    data["run"].update(run)
    return parse_config(data, ROOT / "configs")


@pytest.fixture
def anyio_backend() -> str:
    """The Pilot tests run on asyncio (anyio's pytest plugin drives them)."""
    return "asyncio"
