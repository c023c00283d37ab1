"""The runtime of generated strategies: a rule strategy driven by a validated spec.

A saved drop-in file is a few lines: the spec as JSON text and a subclass of
:class:`RuleStrategy` naming it. The spec is validated again (and its conditions compiled by
the safe expression parser) when the strategy is created, so an edited file with a bad rule
fails at start with a :class:`~engine.errors.ConfigError`, never mid-run.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, ClassVar

from papertape.engine.execution.orders import Signal
from papertape.engine.strategy import Strategy, StrategyContext
from papertape.plugins.llm.generate.spec import BAR_FIELDS, CompiledSpec, Updater, validate_spec

if TYPE_CHECKING:
    from papertape.engine.portfolio import PortfolioView
    from papertape.engine.snapshot import Snapshot

__all__ = ["RuleStrategy", "render_dropin"]


class RuleStrategy(Strategy):
    """Enter when the spec's entry condition holds, exit when its exit condition holds.

    Subclasses set ``spec_json`` (the spec's JSON text) and ``name``.
    """

    spec_json: ClassVar[str] = ""
    defaults: ClassVar[dict[str, Any]] = {}

    def validate(self) -> None:
        """Validate and compile the spec."""
        self.compiled: CompiledSpec = validate_spec(self.spec_json)

    def on_start(self, ctx: StrategyContext) -> None:
        """Fresh indicator state per symbol."""
        self._ind: dict[str, dict[str, Updater]] = {
            s: self.compiled.updaters() for s in ctx.symbols
        }
        self._prev: dict[str, dict[str, float] | None] = dict.fromkeys(ctx.symbols)

    def on_bar(self, snap: Snapshot, portfolio: PortfolioView) -> Signal | None:
        """Update indicators with the bar, then test exit (in a position) or entry (flat)."""
        sym = snap.symbol
        env = {f: snap.last(f) for f in BAR_FIELDS}  # type: ignore[arg-type]
        h, lo, c = env["high"], env["low"], env["close"]
        for name, update in self._ind[sym].items():
            env[name] = update(h, lo, c)
        prev = self._prev[sym]
        self._prev[sym] = env
        spec = self.compiled.spec
        held = portfolio.qty(sym)
        if held != 0.0:
            return Signal.flat(f"exit: {spec.exit}") if self.compiled.exit(env, prev) else None
        if not self.compiled.entry(env, prev):
            return None
        sign = 1.0 if spec.side == "long" else -1.0
        stop = c * (1.0 - sign * spec.stop_loss_pct / 100.0) if spec.stop_loss_pct else None
        target = c * (1.0 + sign * spec.take_profit_pct / 100.0) if spec.take_profit_pct else None
        make = Signal.long if spec.side == "long" else Signal.short
        return make(f"entry: {spec.entry}", stop_loss=stop, take_profit=target, size=spec.size)


_TEMPLATE = '''\
"""Generated rule strategy {name!r}: entry/exit rules over named indicators, kept as data.

Written by `papertape generate`, validated by papertape's safe expression parser and backtested
before it was saved. SPEC is data, not code: edit it, and the strategy validates it again when
it starts. SOURCE records which model wrote it from which data.
"""

from __future__ import annotations

from typing import ClassVar

from papertape.plugins.llm.generate.rules import RuleStrategy

SOURCE = {source!r}
SPEC = {spec!r}


class {cls}(RuleStrategy):
    """Generated rule strategy (see SPEC)."""

    name: ClassVar[str] = {name!r}
    spec_json: ClassVar[str] = SPEC
'''


def render_dropin(compiled: CompiledSpec, name: str, provider: str, model: str, data: str) -> str:
    """The source of a drop-in strategy file for a validated spec.

    Only ``name`` (an identifier checked by the spec's pattern) is written as code; every other
    text (the spec, the model and data names) is written with ``repr`` inside a string literal.
    """
    if not name.isidentifier():
        raise ValueError(f"not an identifier: {name!r}")
    spec = json.dumps(compiled.spec.model_dump(mode="json"), indent=1, sort_keys=True)
    cls = "".join(part.capitalize() for part in name.split("_"))
    source = {"provider": provider, "model": model, "data": data}
    return _TEMPLATE.format(name=name, source=source, spec=spec, cls=cls)
