from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from papertape.engine.config import parse_config
from papertape.engine.errors import ConfigError
from papertape.engine.registry import build_catalog, make_plugin_manager
from papertape.engine.session import run_session
from papertape.plugins.llm.generate.rules import render_dropin
from papertape.plugins.llm.generate.spec import validate_spec
from tests.plugins.llm.conftest import SP500


def good_spec(**kw: Any) -> dict[str, Any]:
    spec = {
        "name": "trend_pullback",
        "description": "Long when the fast average is above the slow one and RSI dips.",
        "side": "long",
        "indicators": [
            {"name": "fast", "kind": "sma", "period": 20},
            {"name": "slow", "kind": "sma", "period": 100},
            {"name": "rsi14", "kind": "rsi", "period": 14},
        ],
        "entry": "fast > slow and rsi14 < 45",
        "exit": "crosses_below(fast, slow) or rsi14 > 75",
        "stop_loss_pct": 8,
        "take_profit_pct": None,
        "size": 0.9,
    }
    spec.update(kw)
    return spec


def test_valid_spec_compiles_its_conditions() -> None:
    compiled = validate_spec(json.dumps(good_spec()))

    assert compiled.spec.name == "trend_pullback"
    assert compiled.entry({"fast": 2.0, "slow": 1.0, "rsi14": 40.0}, None) is True
    assert compiled.warmup == 200


@pytest.mark.parametrize(
    ("spec", "key"),
    [
        ("{not json", "spec"),
        (good_spec(size=1.5), "spec.size"),
        (good_spec(side="both"), "spec.side"),
        (good_spec(name="Bad Name!"), "spec.name"),
        (
            good_spec(indicators=[{"name": "x", "kind": "fourier", "period": 3}]),
            "spec.indicators.0.kind",
        ),
        (
            good_spec(indicators=[{"name": "x", "kind": "sma", "period": 1}]),
            "spec.indicators.0.period",
        ),
        (good_spec(indicators=[{"name": "close", "kind": "sma", "period": 5}]), "spec.indicators"),
        (good_spec(entry="fast > undefined_thing"), "spec.entry"),
        (good_spec(exit="__import__(fast)"), "spec.exit"),
        (good_spec(unexpected=1), "spec.unexpected"),
    ],
)
def test_invalid_specs_are_rejected_naming_the_key(spec: Any, key: str) -> None:
    with pytest.raises(ConfigError) as err:
        validate_spec(spec if isinstance(spec, str) else json.dumps(spec))

    assert err.value.key == key


def test_saved_dropin_is_discovered_and_backtests(tmp_path: Path) -> None:
    compiled = validate_spec(good_spec())
    file = tmp_path / "gen_trend_pullback.py"
    file.write_text(render_dropin(compiled, "gen_trend_pullback", "ollama", "m", "sp500.csv"))

    pm, broken = make_plugin_manager([tmp_path], entry_points=False)
    catalog = build_catalog(pm, broken)
    config = parse_config(
        {
            "data": [{"path": str(SP500), "symbol": "SPX"}],
            "strategies": [{"name": "gen_trend_pullback"}],
            "plugins": {"strategy_dirs": [str(tmp_path)], "entry_points": False},
            "journal": {"enabled": False},
        }
    )
    result = run_session(config)

    assert broken == []
    assert "gen_trend_pullback" in catalog.strategies
    r = result.strategies["gen_trend_pullback"]
    assert r.errors == 0
    assert r.metrics.trades > 5


def test_text_in_a_spec_can_never_become_code(tmp_path: Path) -> None:
    evil = '"""\nimport os\nos.environ["PWNED"] = "1"\n"""'
    compiled = validate_spec(good_spec(description=evil))
    source = render_dropin(compiled, "gen_safe", 'x"""\nimport os  #', "m\nimport sys", evil[:40])
    file = tmp_path / "gen_safe.py"
    file.write_text(source)

    spec = importlib.util.spec_from_file_location("gen_safe_under_test", file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # imported the way the registry imports drop-ins

    assert not hasattr(module, "os") and not hasattr(module, "sys")
    assert json.loads(module.SPEC)["description"] == evil
    assert module.SOURCE["model"] == "m\nimport sys"
    with pytest.raises(ValueError):
        render_dropin(compiled, "not an identifier", "p", "m", "d")
