"""``papertape sweep`` from the command line: JSON, CSV table, HTML report, exports."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from papertape.engine.cli.main import main
from tests.sweeps.conftest import write_config


def test_sweep_json_table_and_report(
    small_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "sweep.html"
    table = tmp_path / "sweep.csv"
    argv = [
        "sweep",
        str(small_config),
        "--workers",
        "1",
        "--out",
        str(tmp_path / "s"),
        "--no-progress",
        "--json",
        "--report",
        str(report),
        "--table",
        str(table),
    ]
    assert main(argv) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["cells"], doc["ran"], doc["reused"]) == (5, 5, 0)
    assert doc["table"] == table.read_text()
    assert doc["report"] == str(report)
    sharpes = [b["metrics"]["sharpe"] for b in doc["best"]]
    assert sharpes == sorted(sharpes, reverse=True)
    assert doc["overfitting"]["best_task"] == doc["best"][0]["task_id"]
    assert 0.0 <= doc["overfitting"]["pbo"] <= 1.0
    assert 0.0 <= doc["overfitting"]["deflated_sharpe"] <= 1.0
    html = report.read_text()
    assert '"type":"heatmap"' in html and doc["best"][0]["task_id"] in html
    assert '<script src="https://cdn.plot.ly' not in html  # plotly embedded: works offline
    assert len(html) > 1_000_000


def test_sweep_prints_best_cells_and_resumes(
    small_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "sweep",
        str(small_config),
        "--workers",
        "1",
        "--out",
        str(tmp_path / "s"),
        "--no-progress",
    ]
    assert main(argv) == 0
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "deflated Sharpe" in out and "PBO" in out
    assert (tmp_path / "s" / "report.html").is_file()  # the report is written by default
    assert "0 cells run, 5 reused" in out


def test_sweep_without_a_sweep_section_is_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "plain.toml"
    cfg.write_text('[[strategies]]\nname = "sma_cross"\n[[data]]\npath = "sp500_daily.csv"\n')
    assert main(["sweep", str(cfg)]) == 2
    assert "[sweep]" in capsys.readouterr().err


def test_sweeps_all_is_explicit_and_importable() -> None:
    module = importlib.import_module("papertape.sweeps")
    assert len(set(module.__all__)) == len(module.__all__)
    for member in module.__all__:
        assert hasattr(module, member)


def test_a_sweep_folder_is_under_the_working_folder_like_a_runs_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # `journal.dir = "journals"` put runs and arenas under ./journals but a sweep under
    # <config folder>/journals (configs/journals/sweeps/... from the repo root)
    (tmp_path / "configs").mkdir()
    (tmp_path / "work").mkdir()
    config = write_config(tmp_path / "configs")
    monkeypatch.chdir(tmp_path / "work")
    argv = ["sweep", str(config), "--workers", "1", "--no-progress", "--json"]
    assert main(argv) == 0
    folder = Path(json.loads(capsys.readouterr().out)["folder"])
    assert folder.parent == tmp_path / "work" / "journals" / "sweeps"
    assert not (tmp_path / "configs" / "journals").exists()
