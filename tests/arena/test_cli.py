from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from papertape.engine.cli.main import main
from tests.arena.conftest import arena_raw


def _toml(raw: dict, path: Path) -> Path:
    def value(v: object) -> str:
        return (
            json.dumps(v)
            if not isinstance(v, dict)
            else ("{" + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + "}")
        )

    lines = []
    for section, body in raw.items():
        items = body if isinstance(body, list) else [body]
        for item in items:
            lines.append(f"[[{section}]]" if isinstance(body, list) else f"[{section}]")
            for k, v in item.items():
                if isinstance(v, list) and v and isinstance(v[0], dict):
                    v = "[" + ", ".join(value(x) for x in v) + "]"
                    lines.append(f"{k} = {v}")
                else:
                    lines.append(f"{k} = {value(v)}")
    path.write_text("\n".join(lines) + "\n")
    assert tomllib.loads(path.read_text())["arena"]["warmup_bars"] == 100
    return path


def test_arena_json_report_and_report_command(tmp_path: Path, capsys) -> None:
    config = _toml(arena_raw(tmp_path / "journals"), tmp_path / "arena.toml")
    html = tmp_path / "out" / "arena.html"
    assert main(["arena", str(config), "--json", "--report", str(html)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["windows"] == ["2016-01-04..2016-12-30", "2017-01-03..2017-12-29"]
    board = out["leaderboards"]["real"]
    assert {r["trader"] for r in board["rows"]} == {
        "sma", "mom", "buy_and_hold", "always_flat", "random",
    }  # fmt: skip
    assert html.is_file() and "Plotly.newPlot" in html.read_text()
    run_dir = tmp_path / "journals" / out["arena_id"]
    assert (run_dir / "arena.json").is_file()
    again = tmp_path / "again.html"
    assert main(["report", str(run_dir), "--out", str(again)]) == 0
    assert again.read_text() == html.read_text()


def test_arena_prints_tables_for_people(tmp_path: Path, capsys) -> None:
    config = _toml(arena_raw(tmp_path / "journals", windows=2), tmp_path / "arena.toml")
    assert main(["arena", str(config), "--windows", "3"]) == 0
    text = capsys.readouterr().out
    assert "papertape arena" in text and "per window" in text and "buy_and_hold" in text
    assert text.count("..") >= 3  # three window labels


@pytest.mark.parametrize(
    "argv",
    [
        ["report", "{tmp}"],
        ["arena", "{tmp}/missing.toml"],
        ["arena", "{cfg}", "--windows", "0"],
        ["arena", "{cfg}", "--metrics-port", "9108"],  # metrics are the monitor's: --tui
        ["arena", "{cfg}", "--tui", "--workers", "2"],  # the monitor follows windows run here
    ],
)
def test_user_errors_exit_2(tmp_path: Path, argv: list[str], capsys) -> None:
    config = _toml(arena_raw(tmp_path / "journals"), tmp_path / "arena.toml")
    args = [a.format(tmp=tmp_path, cfg=config) for a in argv]
    assert main(args) == 2
    assert "error:" in capsys.readouterr().err
