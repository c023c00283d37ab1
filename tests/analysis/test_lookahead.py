"""Look-ahead audit: a drop-in strategy that peeks at the next bar is found; honest ones pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from papertape.analysis.lookahead import audit_lookahead
from papertape.engine.cli.main import main
from papertape.engine.config import load_config
from tests.engine.journal.conftest import write_bars

PEEKING = '''
from __future__ import annotations
from typing import Any, ClassVar
from papertape.engine.execution.orders import Signal
from papertape.engine.strategy import Strategy


class Peek(Strategy):
    """Goes long when tomorrow closes higher: it reads the loaded series past its cursor."""

    name: ClassVar[str] = "peek"

    def on_start(self, ctx: Any) -> None:
        self.long = False

    def on_bar(self, snap: Any, portfolio: Any) -> Any:
        series = snap.histories[0].series
        tomorrow = series.close[min(snap.counts[0], len(series.close) - 1)]
        want = bool(tomorrow > snap.price)
        if want == self.long:
            return None
        self.long = want
        return Signal.long("up tomorrow") if want else Signal.flat("down tomorrow")
'''


def _config(tmp_path: Path, strategy: str, params: str = "") -> Path:
    data = write_bars(tmp_path / "walk.csv", 300)
    strats = tmp_path / "strats"
    strats.mkdir(exist_ok=True)
    (strats / "peek.py").write_text(PEEKING)
    path = tmp_path / f"{strategy}.toml"
    path.write_text(f'''
[run]
name = "audit"

[[data]]
path = "{data}"
symbol = "WALK"

[[strategies]]
name = "{strategy}"
params = {{ {params} }}

[plugins]
strategy_dirs = ["{strats}"]
entry_points = false
''')
    return path


def test_a_strategy_reading_the_next_bar_is_caught_at_the_cut(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path, "peek"))

    report = audit_lookahead(config, points=8, seed=1)

    assert not report.clean
    for finding in report.findings:
        # On the cut bar the shortened run cannot see tomorrow: that is the first difference.
        assert finding.time == finding.cut
        assert finding.full != finding.cut_run
        assert set(finding.bar) == {"open", "high", "low", "close", "volume"}


def test_an_honest_strategy_is_clean_including_its_silent_bars(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path, "sma_cross", "fast = 5, slow = 20"))

    report = audit_lookahead(config, points=6, seed=1)

    assert report.clean
    assert len(report.cuts) == 6 and report.bars_checked > 6 * 30


def test_the_cli_exits_1_on_a_finding_and_0_when_clean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    peek = _config(tmp_path, "peek")
    assert main(["audit", "lookahead", str(peek), "--points", "6", "--seed", "1"]) == 1
    assert "look-ahead" in capsys.readouterr().out

    data = str(tmp_path / "walk.csv")
    args = ["audit", "lookahead", "--data", data, "--strategy", "sma_cross", "--json"]
    assert main([*args, "--param", "fast=5", "--param", "slow=20", "--points", "3"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["clean"] is True and len(report["cuts"]) == 3
