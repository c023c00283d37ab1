from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from papertape.engine.cli.main import main
from papertape.engine.feeds.base import BarSeries
from papertape.ml.regime.model import RegimeModel


@pytest.fixture(scope="module")
def short_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped file's rows of 1999-2004 (the same bars as ``spx_short``)."""
    from importlib.resources import files

    lines = (files("papertape.engine") / "data" / "sp500_daily.csv").read_text().splitlines()
    keep = [lines[0]] + [ln for ln in lines[1:] if ln[:4] < "2005"]
    path = tmp_path_factory.mktemp("data") / "spx_short.csv"
    path.write_text("\n".join(keep) + "\n")
    return path


def test_train_list_and_label_from_the_command_line(
    short_csv: Path, spx_short: BarSeries, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "models" / "hmm-spx"
    args = [
        "train",
        "regime",
        "--model",
        "hmm",
        "--data",
        str(short_csv),
        "--symbol",
        "SPX",
        "--train-end",
        "2002-12-31",
        "--out",
        str(out),
        "--param",
        "n_init=1",
        "--json",
    ]
    assert main(args) == 0
    meta = json.loads(capsys.readouterr().out)
    assert meta["path"] == str(out / "v1") and meta["hyperparameters"]["n_init"] == 1
    assert meta["data"]["last"].startswith("2002-12-31")

    assert main(["models", "list", "--root", str(tmp_path / "models"), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(m["name"], m["version"], m["kind"]) for m in listed] == [("hmm-spx", 1, "hmm")]

    assert main(["regime", "label", "--model", str(out), "--data", str(short_csv), "--json"]) == 0
    labels = json.loads(capsys.readouterr().out)["labels"]
    assert len(labels) == len(spx_short)
    assert labels[0] == {
        "timestamp": "1999-01-04T00:00:00+00:00",
        "regime": None,
        "probs": None,
        "confidence": None,
    }
    last = labels[-1]
    assert last["regime"] in ("calm", "transition", "volatile")
    assert sum(last["probs"].values()) == pytest.approx(1.0)
    assert last["confidence"] == max(last["probs"].values())

    assert main(["regime", "label", "--model", str(out), "--data", str(short_csv)]) == 0
    text = capsys.readouterr().out
    assert "2004-12-31" in text and "conf=" in text


def test_train_from_a_config_file(
    short_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "train.toml"
    cfg.write_text(
        f'[train]\nmodel = "heuristic"\ndata = "{short_csv.name}"\nout = "{tmp_path / "m"}"\n'
        'seed = 3\nregimes = 2\n\n[features]\nnames = ["volatility", "trend", "drawdown"]\n\n'
        "[hyperparameters]\nvolatile_pct = 80.0\n"
    )
    (tmp_path / short_csv.name).write_bytes(short_csv.read_bytes())
    assert main(["train", "regime", "--config", str(cfg), "--json"]) == 0
    meta = json.loads(capsys.readouterr().out)
    assert meta["labels"] == ["calm", "volatile"] and meta["seed"] == 3
    assert meta["features"]["names"] == ["volatility", "trend", "drawdown"]
    assert meta["hyperparameters"]["volatile_pct"] == 80.0


def test_the_config_may_be_given_as_other_commands_take_it(
    short_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `papertape train regime configs/train-hmm.toml` (as `run`, `arena`, `sweep` take theirs)
    # was "unrecognized arguments: configs/train-hmm.toml"
    cfg = tmp_path / "train.toml"
    cfg.write_text(
        f'[train]\nmodel = "heuristic"\ndata = "{short_csv}"\nout = "{tmp_path / "m"}"\n'
    )
    assert main(["train", "regime", str(cfg), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["kind"] == "heuristic"
    assert main(["train", "regime", str(cfg), "--config", str(tmp_path / "other.toml")]) == 2
    assert "give the config once" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [
        ["train", "regime", "--data", "sp500_daily.csv"],  # no --model
        ["train", "regime", "--model", "hmm", "--data", "nope.csv"],
        ["train", "regime", "--model", "hmm", "--data", "sp500_daily.csv", "--param", "bogus=1"],
        [
            "train",
            "regime",
            "--model",
            "heuristic",
            "--data",
            "sp500_daily.csv",
            "--train-end",
            "31/12/2004",
        ],
        [
            "train",
            "regime",
            "--model",
            "heuristic",
            "--data",
            "sp500_daily.csv",
            "--features",
            "momentum",
        ],
        ["regime", "label", "--model", "no/such/model", "--data", "sp500_daily.csv"],
        ["evaluate", "regime", "--models", "hmm,lstm"],
        ["evaluate", "regime", "--models", "hmm", "--param", "vae.epochs=1"],
    ],
)
def test_user_errors_exit_2_with_one_line(
    args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*args, *(["--out", str(tmp_path / "m")] if args[0] == "train" else [])]) == 2
    assert "error:" in capsys.readouterr().err


def test_evaluate_prints_tables_and_writes_markdown(
    short_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    md = tmp_path / "report.md"
    args = [
        "evaluate",
        "regime",
        "--data",
        str(short_csv),
        "--models",
        "heuristic,hmm",
        "--first-test-year",
        "2002",
        "--param",
        "hmm.n_init=1",
        "--markdown",
        str(md),
        "--json",
    ]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert [d["kind"] for d in report["detectors"]] == ["heuristic", "hmm"]
    assert report["oos_first"].startswith("2002-01-02")
    assert {(r["strategy"], r["variant"]) for r in report["detectors"][1]["strategies"]} == {
        ("SMA 10/30", "filtered"),
        ("SMA 10/30", "sized"),
        ("buy & hold", "filtered"),
        ("buy & hold", "sized"),
    }
    assert report["detectors"][1]["refits"] == 3
    text = md.read_text()
    assert text.count("| hmm |") >= 4 and "Strategy effect" in text


def test_label_matches_the_library(
    trained: Callable[[str], Path],
    fitted: Callable[[str], RegimeModel],
    spx_short: BarSeries,
    short_csv: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert (
        main(
            ["regime", "label", "--model", str(trained("vae")), "--data", str(short_csv), "--json"]
        )
        == 0
    )
    labels = json.loads(capsys.readouterr().out)["labels"]
    expected = fitted("vae").label_series(spx_short).labels
    names = fitted("vae").names
    assert [names.index(x["regime"]) if x["regime"] else -1 for x in labels] == expected.tolist()


def test_shipped_data_file_is_the_default_for_evaluate() -> None:
    from papertape.engine.cli.main import build_parser

    args = build_parser().parse_args(["evaluate", "regime"])
    assert args.data == "sp500_daily.csv" and args.models == "heuristic,hmm,vae,transformer"
