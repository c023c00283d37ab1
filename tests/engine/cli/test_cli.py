"""The command line: JSON shape, the demo config, and clear errors without tracebacks."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from papertape.engine.cli.main import main

REPO = Path(__file__).resolve().parents[3]


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:  # type: ignore[type-arg]
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_backtest_json_shape_and_consistency(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = run_json(
        capsys,
        "backtest",
        "--data",
        "sp500_daily.csv",
        "--symbol",
        "SPX",
        "--strategy",
        "sma_cross",
        "--param",
        "fast=20",
        "--param",
        "slow=100",
        "--fees-bps",
        "5",
        "--slippage-bps",
        "2",
        "--journal-dir",
        str(tmp_path),
        "--json",
    )
    assert {"run_id", "bars", "seconds", "strategies"} <= set(out)
    assert out["bars"] == 5031 and out["symbols"] == ["SPX"]
    s = out["strategies"]["sma_cross"]
    for key in (
        "final_equity",
        "total_return",
        "sharpe",
        "sortino",
        "calmar",
        "max_drawdown",
        "trades",
        "win_rate",
        "profit_factor",
        "trade_list",
    ):
        assert key in s
    trades = s["trade_list"]
    assert len(trades) == s["trades"] > 0
    for t in trades:
        assert set(t) >= {"entry_time", "entry_price", "exit_time", "exit_price", "qty", "pnl"}
        assert t["exit_time"] > t["entry_time"]
    assert s["total_return"] == pytest.approx(s["final_equity"] / 100_000 - 1)
    wins = sum(t["pnl"] > 0 for t in trades)
    assert s["win_rate"] == pytest.approx(wins / len(trades))
    journal = Path(out["journal"])
    assert journal.is_file() and journal.parent.parent == tmp_path


def test_same_config_same_journal_bytes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    args = ["run", str(REPO / "configs" / "demo.toml"), "--json"]
    first = run_json(capsys, *args, "--journal-dir", str(tmp_path / "a"))
    second = run_json(capsys, *args, "--journal-dir", str(tmp_path / "b"))
    assert first["run_id"] == second["run_id"]
    a = Path(first["journal"]).read_bytes()
    assert a and a == Path(second["journal"]).read_bytes()


def cli(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "papertape.engine.cli.main", *argv],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["backtest", "--data", "nope.csv", "--strategy", "sma_cross"],
            "data file not found: nope.csv",
        ),
        (
            ["backtest", "--data", "sp500_daily.csv", "--strategy", "smacross"],
            "unknown strategy 'smacross'",
        ),
        (
            [
                "backtest",
                "--data",
                "sp500_daily.csv",
                "--strategy",
                "sma_cross",
                "--param",
                "fsat=3",
            ],
            "no parameter 'fsat'",
        ),
        (
            [
                "backtest",
                "--data",
                "sp500_daily.csv",
                "--strategy",
                "sma_cross",
                "--param",
                "fast=x",
            ],
            "params.fast = 'x'",
        ),
        (
            [
                "backtest",
                "--data",
                "sp500_daily.csv",
                "--strategy",
                "sma_cross",
                "--param",
                "fast=50",
                "--param",
                "slow=10",
            ],
            "params.slow = 10",
        ),
        (["run", "missing.toml"], "config = 'missing.toml': file not found"),
    ],
)
def test_user_errors_are_one_line_exit_2(argv: list[str], message: str) -> None:
    proc = cli(*argv)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_malformed_config_names_key_and_value(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text(
        '[[data]]\npath = "sp500_daily.csv"\n[execution]\ntaker_bps = "lots"\n'
        '[[strategies]]\nname = "sma_cross"\n'
    )
    proc = cli("run", str(cfg))
    assert proc.returncode == 2
    assert "execution.taker_bps = 'lots'" in proc.stderr and "Traceback" not in proc.stderr
    cfg.write_text("[run\nname=1")
    proc = cli("run", str(cfg))
    assert proc.returncode == 2 and "not valid TOML" in proc.stderr


def test_help_reads_like_a_manual() -> None:
    proc = cli("backtest", "--help")
    assert proc.returncode == 0
    for word in (
        "--data",
        "--strategy",
        "--param",
        "--fees-bps",
        "--slippage-bps",
        "--json",
        "next",
    ):
        assert word in proc.stdout


def test_bench_json_reports_the_documented_fields(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_json(
        capsys, "bench", "--bars", "3000", "--symbols", "2", "--strategies", "2", "--json"
    )
    assert out["bars"] == 6000 and out["strategies"] == 2
    for key in ("events_per_sec", "peak_rss_mb", "bare_loop_bars_per_sec", "ratio_to_bare_loop"):
        assert out[key] > 0


def test_error_text_is_not_eaten_as_markup(tmp_path: Path) -> None:
    cfg = tmp_path / "x.toml"
    cfg.write_text('[[data]]\npath = "[weird].csv"\n[[strategies]]\nname = "sma_cross"\n')
    proc = cli("run", str(cfg))
    assert proc.returncode == 2 and "[weird].csv" in proc.stderr


NUMPY_STATS = """
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from papertape.engine.strategy import Strategy


class Opaque:
    def __str__(self) -> str:
        return "opaque-thing"


class NumpyStats(Strategy):
    name: ClassVar[str] = "numpy_stats"

    def on_bar(self, snap: Any, portfolio: Any) -> Any:
        return None

    def stats(self) -> dict[str, Any]:
        return {
            "f": np.float64(1.5),
            "i": np.int64(7),
            "b": np.bool_(True),
            "arr": np.array([1.0, np.nan, 3.0]),
            "nested": {np.int64(3): (np.float32(0.5), {1, 2})},
            "obj": Opaque(),
        }
"""


def test_json_survives_numpy_and_odd_stats(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    (tmp_path / "numpy_stats.py").write_text(NUMPY_STATS)
    out = run_json(
        capsys,
        "backtest",
        "--data",
        "sp500_daily.csv",
        "--strategy",
        "numpy_stats",
        "--strategy-dir",
        str(tmp_path),
        "--no-journal",
        "--json",
    )
    stats = out["strategies"]["numpy_stats"]["stats"]
    assert stats["f"] == 1.5 and stats["i"] == 7 and stats["b"] is True
    assert stats["arr"] == [1.0, None, 3.0]
    assert stats["nested"] == {"3": [0.5, [1, 2]]}
    assert stats["obj"] == "opaque-thing"
    assert "strategies.numpy_stats.stats.obj is a Opaque" in caplog.text


def test_a_trades_file_backtests_tick_by_tick_with_metrics(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # One tick per trade, several trades at one time: the run used to end in
    # "times must be strictly increasing" from the metrics, after the whole replay.
    data = tmp_path / "trades.csv"
    rows = ["timestamp,price,amount"]
    for i in range(300):
        # most trades a second or two apart, every fifth sharing the time of the one before
        second = i + i // 2 - i // 5
        stamp = f"2024-01-01T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}Z"
        rows.append(f"{stamp},{100 + (i % 17) * 0.1},1")
    data.write_text("\n".join(rows) + "\n")
    out = run_json(
        capsys,
        "backtest",
        "--data",
        str(data),
        "--strategy",
        "sma_cross",
        "--param",
        "fast=5",
        "--param",
        "slow=20",
        "--journal-dir",
        str(tmp_path / "j"),
        "--json",
    )
    s = out["strategies"]["sma_cross"]
    assert out["bars"] == 300
    assert s["trades"] > 0
    assert math.isfinite(s["sharpe"]) and s["max_drawdown"] > 0


def test_money_in_the_table_keeps_digits_a_small_account_needs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # A 10 BTC account printed its expectancy as "-0.00" (two decimals, as for dollars)
    argv = ["backtest", "--data", "sp500_daily.csv", "--strategy", "sma_cross", "--cash", "10"]
    argv += ["--journal-dir", str(tmp_path)]
    assert main([*argv, "--json"]) == 0
    exact = json.loads(capsys.readouterr().out)["strategies"]["sma_cross"]
    assert main(argv) == 0
    rows = {
        line.split("│")[1].strip(): line.split("│")[2].strip()
        for line in capsys.readouterr().out.splitlines()
        if line.count("│") == 3
    }
    assert rows["expectancy"] == f"{exact['expectancy']:,.5f}"
    assert rows["final equity"] == f"{exact['final_equity']:,.5f}"
    assert abs(float(rows["expectancy"])) > 0
