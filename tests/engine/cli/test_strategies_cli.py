"""``papertape strategies``: the listing survives plugins without docstrings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from papertape.engine.cli.main import main

REPO = Path(__file__).resolve().parents[3]

UNDOCUMENTED = """
from papertape import Signal, Strategy


class Quiet(Strategy):
    name = "quiet_undocumented"
    defaults = {"n": 3}

    def on_bar(self, snap, portfolio):
        return None
"""


@pytest.fixture
def drop_in(tmp_path: Path) -> Path:
    (tmp_path / "quiet.py").write_text(UNDOCUMENTED)
    return tmp_path


def test_json_lists_a_strategy_without_docstring(
    capsys: pytest.CaptureFixture[str], drop_in: Path
) -> None:
    # A class with no docstring has __doc__ None; its summary is empty, not an IndexError.
    assert main(["strategies", "--strategy-dir", str(drop_in), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["strategy"]["quiet_undocumented"] == {"params": {"n": 3}, "doc": ""}
    assert out["strategy"]["sma_cross"]["doc"] == "Classic moving-average crossover on closes."


def test_table_lists_the_readme_breakout_example(capsys: pytest.CaptureFixture[str]) -> None:
    # The repository's own drop-in example (strategies/breakout.py) has no class docstring.
    assert main(["strategies", "--strategy-dir", str(REPO / "strategies")]) == 0
    out = capsys.readouterr().out
    assert "breakout" in out and "lookback=20" in out


def test_json_lists_the_readme_breakout_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["strategies", "--strategy-dir", str(REPO / "strategies"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["strategy"]["breakout"]["params"] == {"lookback": 20}
    assert out["broken"] == []
