"""Expansion of a [sweep] section into cells, each cell's seed and run id."""

from __future__ import annotations

from pathlib import Path

import pytest

from papertape.engine.errors import ConfigError
from papertape.engine.session import load_series
from papertape.sweeps import cell_seed, expand, load_sweep, parse_sweep, task_id_of
from tests.sweeps.conftest import write_config


def test_grid_keeps_every_combination_the_rules_allow(small_config: Path) -> None:
    base, spec = load_sweep(small_config)
    cells = expand(base, spec, load_series(base))
    assert [c.task_id for c in cells] == [
        "fast=10,slow=50",
        "fast=10,slow=120",
        "fast=30,slow=50",
        "fast=30,slow=120",
        "fast=60,slow=120",
    ]
    assert [c.index for c in cells] == list(range(5))
    assert len({c.run_id for c in cells}) == 5
    assert all(c.config.strategies[0].params["fast"] == c.params["fast"] for c in cells)
    assert all(not c.config.journal.enabled for c in cells)


def test_cell_seed_comes_from_run_seed_and_task_id() -> None:
    assert cell_seed(7, "fast=10,slow=50") == cell_seed(7, "fast=10,slow=50")
    assert cell_seed(7, "fast=10,slow=50") != cell_seed(8, "fast=10,slow=50")
    assert cell_seed(7, "fast=10,slow=50") != cell_seed(7, "fast=10,slow=120")
    assert 0 <= cell_seed(7, "x") < 2**63


def test_task_id_does_not_depend_on_key_order() -> None:
    assert task_id_of({"slow": 50, "fast": 10}) == task_id_of({"fast": 10, "slow": 50})


def test_random_mode_draws_a_seeded_subset_of_the_grid(tmp_path: Path) -> None:
    base, grid = load_sweep(write_config(tmp_path, fast=[5, 10, 20, 30], slow=[50, 100, 200]))
    series = load_series(base)
    every = {c.task_id for c in expand(base, grid, series)}
    section = {"strategy": "sma", "mode": "random", "samples": 5, "seed": 3, "params": grid.params}
    first = [c.task_id for c in expand(base, parse_sweep(section, base), series)]
    again = [c.task_id for c in expand(base, parse_sweep(section, base), series)]
    other = [c.task_id for c in expand(base, parse_sweep({**section, "seed": 4}, base), series)]
    assert first == again
    assert len(first) == 5 and set(first) <= every
    assert first != other


def test_run_id_changes_with_the_data(tmp_path: Path) -> None:
    base, spec = load_sweep(write_config(tmp_path))
    series = load_series(base)
    shorter = [
        s.__class__(
            s.symbol,
            *(getattr(s, c)[:-10] for c in ("time", "open", "high", "low", "close", "volume")),
        )
        for s in series
    ]
    assert expand(base, spec, series)[0].run_id != expand(base, spec, shorter)[0].run_id


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ({"strategy": "nope", "params": {"fast": [1]}}, "sweep.strategy"),
        ({"params": {}}, "sweep.params"),
        ({"params": {"fast": [1, 1]}}, "sweep.params.fast"),
        ({"params": {"fast": [1]}, "mode": "bayes"}, "sweep.mode"),
        ({"params": {"fast": [1]}, "mode": "random"}, "sweep.samples"),
        ({"params": {"fast": [1]}, "where": ["fast < slowest"]}, "sweep.where"),
        ({"params": {"fast": [1]}, "pbo_splits": 3}, "sweep.pbo_splits"),
        ({"params": {"fast": [1]}, "typo": 1}, "sweep.typo"),
    ],
)
def test_bad_sections_name_the_key(small_config: Path, section: dict, key: str) -> None:
    base, _ = load_sweep(small_config)
    with pytest.raises(ConfigError) as info:
        parse_sweep(section, base)
    assert info.value.key == key


def test_symbols_run_each_combination_on_each_symbol_alone(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, path="binance_eth_btc_5m.csv")
    text = cfg.read_text().replace(
        'symbol = "SPX"',
        'symbol = "ETHBTC"\n\n[[data]]\npath = "binance_ltc_btc_5m.csv"\nsymbol = "LTCBTC"',
    )
    cfg.write_text(text.replace("pbo_splits = 8", 'pbo_splits = 8\nsymbols = ["ETHBTC", "LTCBTC"]'))
    base, spec = load_sweep(cfg)
    cells = expand(base, spec, load_series(base))
    assert len(cells) == 10
    assert [c.symbol for c in cells] == ["ETHBTC"] * 5 + ["LTCBTC"] * 5
    assert cells[5].task_id == "fast=10,slow=50;symbol=LTCBTC"
    assert cells[5].config.strategies[0].symbols == ["LTCBTC"]
    assert cells[0].seed != cells[5].seed and cells[0].run_id != cells[5].run_id
    wrong = {"strategy": "sma", "params": spec.params, "symbols": ["XRPBTC"]}
    with pytest.raises(ConfigError) as info:
        expand(base, parse_sweep(wrong, base), load_series(base))
    assert info.value.key == "sweep.symbols"


def test_a_rule_comparing_text_with_a_number_is_a_config_error(small_config: Path) -> None:
    base, _ = load_sweep(small_config)
    spec = parse_sweep({"params": {"fast": ["a", "b"]}, "where": ["fast < 3"]}, base)
    with pytest.raises(ConfigError) as info:
        expand(base, spec, load_series(base))
    assert info.value.key == "sweep.where" and "'a'" in info.value.reason
