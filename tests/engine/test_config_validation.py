"""Bad config numbers, names and encodings end in one ConfigError naming the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from papertape.engine.cli.main import main
from papertape.engine.config import load_config, parse_config, resolve_data_path
from papertape.engine.errors import ConfigError, DataFileNotFound
from papertape.engine.journal import run_dir_of
from papertape.engine.session import build_engine


def _config(**sections: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "data": [{"path": "sp500_daily.csv", "symbol": "SPX"}],
        "strategies": [{"name": "sma_cross"}],
    }
    base.update(sections)
    return base


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("run", "initial_cash", float("inf")),
        ("run", "initial_cash", float("nan")),
        ("execution", "taker_bps", float("inf")),
        ("execution", "maker_bps", float("nan")),
        ("execution", "taker_bps", 20_000.0),
    ],
)
def test_non_finite_or_out_of_range_numbers_name_their_key(
    section: str, key: str, value: float
) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(_config(**{section: {key: value}}))
    assert err.value.key == f"{section}.{key}"


@pytest.mark.parametrize(
    ("sizer", "key"),
    [
        ({"name": "fraction", "fraction": float("nan")}, "strategies.0.sizer.fraction"),
        ({"name": "fixed", "qty": -3}, "strategies.0.sizer.qty"),
        ({"name": "fixed", "qty": float("nan")}, "strategies.0.sizer.qty"),
        ({"name": "fixed", "qty": float("inf")}, "strategies.0.sizer.qty"),
        ({"name": "fixed", "qty": 0}, "strategies.0.sizer.qty"),
        ({"name": "kelly", "max_fraction": float("inf")}, "strategies.0.sizer.max_fraction"),
        ({"name": "vol_target", "target_vol": -0.1}, "strategies.0.sizer.target_vol"),
    ],
)
def test_sizer_numbers_are_finite_and_in_range(sizer: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as err:
        config = parse_config(_config(strategies=[{"name": "sma_cross", "sizer": sizer}]))
        build_engine(config, journal=False)
    assert err.value.key == key


def test_plugin_params_are_checked_when_built_from_code() -> None:
    from papertape.plugins.sizers import FixedQuantity

    with pytest.raises(ConfigError, match="finite") as err:
        FixedQuantity(qty=float("nan"))
    assert err.value.key == "sizer.qty"
    with pytest.raises(ConfigError, match=">= 0"):
        FixedQuantity(qty=-3.0)


def test_shield_and_strategy_numbers_are_finite() -> None:
    shield = {"name": "max_drawdown", "halt_at": float("nan")}
    with pytest.raises(ConfigError) as err:
        parse_config(_config(strategies=[{"name": "sma_cross", "shields": [shield]}]))
    assert err.value.key == "strategies.0.shields.0.halt_at"
    shield = {"name": "max_drawdown", "halt_at": -0.5}
    config = parse_config(_config(strategies=[{"name": "sma_cross", "shields": [shield]}]))
    with pytest.raises(ConfigError) as err:
        build_engine(config, journal=False)
    assert err.value.key == "strategies.0.max_drawdown.halt_at"
    with pytest.raises(ConfigError, match="finite") as err:
        parse_config(_config(strategies=[{"name": "sma_cross", "params": {"fast": -1e999}}]))
    assert err.value.key == "strategies.0.params.fast"


def test_a_nan_in_a_toml_file_is_a_config_error_in_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "nan.toml"
    path.write_text(
        '[[data]]\npath = "sp500_daily.csv"\n[[strategies]]\nname = "sma_cross"\n'
        'sizer = { name = "fraction", fraction = nan }\n'
    )
    assert main(["backtest", str(path), "--no-journal"]) == 2
    err = capsys.readouterr().err
    assert "strategies.0.sizer.fraction" in err
    assert "Traceback" not in err


def test_a_non_utf8_config_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('[run]\nname = "caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match="UTF-8") as err:
        load_config(path)
    assert err.value.key == "config"


@pytest.mark.parametrize("name", ["../escape", "/etc/x", "a/../../b", "..", "", "x\x00y", "c:\\w"])
def test_a_run_name_never_leaves_the_journal_dir(tmp_path: Path, name: str) -> None:
    config = parse_config(_config(run={"name": name}, journal={"dir": str(tmp_path / "j")}))
    run_dir = run_dir_of(config).resolve()
    assert run_dir.parent == (tmp_path / "j").resolve()
    assert "/" not in config.run_id and "\\" not in config.run_id
    assert not config.run_id.startswith(".")


def test_a_plain_run_name_keeps_its_run_id() -> None:
    config = parse_config(_config(run={"name": "demo_1.x-y"}))
    assert config.run_id.startswith("demo_1.x-y-")


def test_the_strategy_budget_is_configurable_and_the_default_keeps_run_ids() -> None:
    plain = parse_config(_config())
    assert plain.run.strategy_budget_s == 2.0
    same = parse_config(_config(run={"strategy_budget_s": 2.0}))
    other = parse_config(_config(run={"strategy_budget_s": 0.5}))
    assert same.run_id == plain.run_id != other.run_id
    engine, _ = build_engine(other, journal=False)
    assert engine.settings.strategy_budget_s == 0.5
    with pytest.raises(ConfigError) as err:
        parse_config(_config(run={"strategy_budget_s": -1.0}))
    assert err.value.key == "run.strategy_budget_s"


def test_a_missing_data_file_names_each_folder_looked_in_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the config's folder is the working folder: named once
    with pytest.raises(DataFileNotFound) as info:
        resolve_data_path("missing.csv", tmp_path)
    places = str(info.value).split("(looked in: ")[1].rstrip(")").split(", ")
    assert places[0] == str(tmp_path.resolve())
    assert len(places) == len(set(places)) == 2  # here, and the shipped data folder
