"""Hand-made runs whose answers are worked out by hand: scripted decisions on fixed prices.

Every bar opens at ``OPENS[i]`` and closes at the next bar's open; orders fill at the next
bar's open with no fees and no slippage, one unit at a time (``fixed`` sizer, qty 1). A scripted
strategy takes ``plan = "1:long,3:flat"``: on its bar ``1`` it asks for a long position, on bar
``3`` for flat; each decision's reason is ``plan <bar> <target>`` (searchable).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

OPENS = [100.0, 110.0, 120.0, 90.0, 80.0, 100.0, 130.0, 125.0, 125.0]
T0 = 946_684_800  # 2000-01-01, one bar a day
DAY_NS = 86_400 * 10**9

SCRIPTED = """
from __future__ import annotations
from typing import Any, ClassVar
from papertape.engine.execution.orders import Signal
from papertape.engine.strategy import Strategy


class Scripted(Strategy):
    name: ClassVar[str] = "scripted"
    defaults: ClassVar[dict[str, Any]] = {"plan": ""}

    def on_start(self, ctx: Any) -> None:
        self.bar = -1
        self.plan = {}
        for item in filter(None, str(self.p.plan).split(",")):
            i, target = item.split(":")
            self.plan[int(i)] = target

    def on_bar(self, snap: Any, portfolio: Any) -> Any:
        self.bar += 1
        target = self.plan.get(self.bar)
        if target is None:
            return None
        make = {"long": Signal.long, "short": Signal.short, "flat": Signal.flat}[target]
        return make(f"plan {self.bar} {target}")
"""


def bar_time(i: int) -> int:
    """Market time (ns) of bar ``i``."""
    return (T0 + i * 86_400) * 10**9


def write_run(root: Path, plans: dict[str, str], extra: str = "") -> Path:
    """Write data, strategy and config under ``root``, run it, return the run folder."""
    from papertape.engine.config import load_config
    from papertape.engine.session import run_session

    root.mkdir(parents=True, exist_ok=True)
    lines = ["timestamp,open,high,low,close,volume"]
    for i, o in enumerate(OPENS):
        c = OPENS[i + 1] if i + 1 < len(OPENS) else o
        lines.append(f"{T0 + i * 86_400},{o},{max(o, c) + 1},{min(o, c) - 1},{c},1000")
    (root / "bars.csv").write_text("\n".join(lines) + "\n")
    strats = root / "strats"
    strats.mkdir(exist_ok=True)
    (strats / "scripted.py").write_text(SCRIPTED)
    slots = "".join(
        f'''
[[strategies]]
name = "scripted"
id = "{sid}"
params = {{ plan = "{plan}" }}
sizer = {{ name = "fixed", qty = 1.0 }}
'''
        for sid, plan in plans.items()
    )
    config = root / "run.toml"
    config.write_text(f'''
[run]
name = "hand"
initial_cash = 1000.0

[[data]]
path = "{root / "bars.csv"}"
symbol = "HAND"

[execution]
taker_bps = 0.0
maker_bps = 0.0
slippage = {{ model = "fixed", bps = 0.0 }}
{slots}
[journal]
dir = "{root / "journals"}"

[plugins]
strategy_dirs = ["{strats}"]
entry_points = false
{extra}
''')
    run_session(load_config(config))
    (folder,) = (root / "journals").iterdir()
    return folder


@pytest.fixture
def hand_run(tmp_path: Path) -> Callable[..., Path]:
    """Factory: ``hand_run({"a": "1:long,3:flat", "b": "4:long,6:flat"})`` -> run folder."""

    def make(plans: dict[str, str], extra: str = "", name: str = "run") -> Path:
        return write_run(tmp_path / name, plans, extra)

    return make
