"""What a strategy's mistakes are reported as: precisely, loudly, with the strategy switched off."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from papertape.engine.errors import ExecutionError, UnknownStrategy
from papertape.engine.execution.orders import Signal, Target
from papertape.engine.registry import build_catalog, make_plugin_manager
from papertape.engine.snapshot import Snapshot
from papertape.engine.strategy import Strategy, StrategyContext
from tests.conftest import Script, flat_bars, make_engine


class Returns(Strategy):
    name = "returns"

    def __init__(self, value: Any) -> None:
        super().__init__()
        self.value = value

    def on_bar(self, snap: Snapshot, portfolio: Any) -> Any:
        return self.value


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("HOLD", "on_bar returned a str ('HOLD'), not a Signal"),
        ({"action": "buy"}, "on_bar returned a dict ({'action': 'buy'}), not a Signal"),
        (42, "on_bar returned a int (42), not a Signal"),
        ([Signal.long(), "x"], "on_bar returned a list whose item 1 is a str ('x'), not a Signal"),
    ],
)
def test_a_wrong_return_is_reported_as_what_it_is(value: Any, said: str) -> None:
    engine, rec = make_engine(flat_bars([1.0, 2.0]), Returns(value), max_errors=5)
    engine.run_sync()
    failures = rec.kinds("strategy_failed")
    assert len(failures) == 2
    assert said in failures[0].error


@pytest.mark.parametrize(
    ("kwargs", "said"),
    [
        ({"size": "big"}, "Signal.size must be a number, got 'big'"),
        ({"size": -0.5}, "Signal.size must be >= 0, got -0.5"),
        ({"size": math.nan}, "Signal.size must be finite, got nan"),
        ({"stop_loss": math.nan}, "Signal.stop_loss must be finite, got nan"),
        ({"take_profit": math.inf}, "Signal.take_profit must be finite, got inf"),
        ({"stop_loss": -1.0}, "Signal.stop_loss must be > 0, got -1.0"),
        ({"price": 0.0}, "Signal.price must be > 0, got 0.0"),
        ({"target": Target.LONG, "reason": 3}, "Signal.reason must be text, got 3"),
        ({"symbol": 5}, "Signal.symbol must be text or None, got 5"),
        ({"order_type": "iceberg"}, "Signal.order_type must be one of market, limit, stop"),
    ],
)
def test_a_malformed_signal_is_refused_at_construction(kwargs: dict[str, Any], said: str) -> None:
    with pytest.raises(ExecutionError) as err:
        if "target" in kwargs:
            Signal(**kwargs)
        else:
            Signal.long("x", **kwargs)
    assert said in str(err.value)


def test_a_signal_accepts_strings_for_its_enums_and_ints_for_prices() -> None:
    sig = Signal("long", order_type="limit", price=100, stop_loss=90, size=1)  # type: ignore[arg-type]
    assert sig.target is Target.LONG and sig.price == 100
    with pytest.raises(ExecutionError, match=r"Signal\.target must be one of long, short, flat"):
        Signal("up")  # type: ignore[arg-type]


def test_a_nan_stop_never_opens_a_position_without_its_bracket() -> None:
    class NanStop(Strategy):
        name = "nan_stop"

        def on_bar(self, snap: Snapshot, portfolio: Any) -> Any:
            return Signal.long("in", stop_loss=math.nan)

    engine, rec = make_engine(flat_bars([1.0, 2.0, 3.0]), NanStop(), max_errors=1)
    engine.run_sync()
    assert rec.kinds("order") == [] and rec.kinds("fill") == []
    (failure,) = rec.kinds("strategy_failed")
    assert "stop_loss must be finite" in failure.error


def test_a_failed_on_start_disables_the_strategy() -> None:
    class NoStart(Script):
        name = "no_start"

        def on_start(self, ctx: StrategyContext) -> None:
            raise RuntimeError("cannot load my model")

    bad = NoStart({0: Signal.long()})
    engine, rec = make_engine(
        flat_bars([1.0, 2.0, 3.0]), [("bad", bad), ("ok", Script({0: Signal.long()}))]
    )
    engine.run_sync()
    (failure,) = rec.kinds("strategy_failed")
    assert "on_start" in failure.error and "cannot load my model" in failure.error
    (disabled,) = rec.kinds("strategy_disabled")
    assert disabled.strategy == "bad" and "on_start failed" in disabled.reason
    assert bad.i == -1  # on_bar never called
    assert {o.strategy for o in rec.kinds("order")} == {"ok"}


def test_a_strategy_whose_file_failed_is_named_with_its_error(tmp_path: Path) -> None:
    (tmp_path / "my_edge.py").write_text(
        "from papertape.engine.strategy import Strategy\nimport not_installed_pkg\n"
        "class MyEdge(Strategy):\n    name = 'my_edge'\n"
    )
    (tmp_path / "other.py").write_text("raise SystemExit(3)\n")
    pm, broken = make_plugin_manager([tmp_path], entry_points=False)
    catalog = build_catalog(pm, broken)
    with pytest.raises(UnknownStrategy) as err:
        catalog.strategy("my_edge")
    text = str(err.value)
    assert f"its file {tmp_path / 'my_edge.py'} failed to import" in text
    assert "ModuleNotFoundError: No module named 'not_installed_pkg'" in text
    assert "unknown strategy" not in text
    assert any("other.py" in path and "SystemExit" in why for path, why in broken)
