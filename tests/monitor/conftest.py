"""Fixtures of the monitor tests: the recorded demo run and small configs that run in a second."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from papertape.engine.config import RunConfig, load_config, parse_config

ROOT = Path(__file__).resolve().parents[2]
DEMO = Path(__file__).parent / "data" / "demo"


@pytest.fixture
def demo_dir() -> Path:
    """A finished run folder (configs/demo.toml's journal, LLM decisions included)."""
    return DEMO


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
