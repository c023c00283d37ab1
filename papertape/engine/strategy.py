"""The strategy contract.

A strategy is a class with a registry ``name``, declared ``defaults`` for its parameters and an
``on_bar`` method. The engine creates one instance per configured strategy and calls ``on_bar``
directly on the hot path (no hook dispatch per bar). ``on_bar`` returns ``None`` (nothing to do),
a :class:`~engine.execution.orders.Signal`, a sequence of signals, or an awaitable resolving to
one of those: slow traders (an LLM) return a coroutine, and the engine awaits all of a tick's
awaitables concurrently.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from types import MappingProxyType, SimpleNamespace
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias

from papertape.engine.execution.orders import Signal, Target
from papertape.engine.params import resolve_params

if TYPE_CHECKING:
    from papertape.engine.execution.orders import Fill
    from papertape.engine.portfolio import PortfolioView
    from papertape.engine.snapshot import Snapshot

__all__ = ["Decision", "Strategy", "StrategyContext", "TargetMemory"]

Decision: TypeAlias = "Signal | Sequence[Signal] | None"


class StrategyContext(SimpleNamespace):
    """What a strategy learns at start: ``id``, ``symbols``, ``interval_ns``, ``journal_dir``.

    ``trade_from`` is the first time (ns) the run trades: snapshots stamped before it are the
    warm-up, whose decisions the engine drops (None: no warm-up).

    ``live`` is True in a live engine, where slow decisions are acted on as they arrive.

    ``emit`` (when the engine provides it) hands an :class:`~engine.events.Event` to the
    journal and every other event consumer; strategies use it for their own records (an LLM
    trader's decisions).

    ``substitute`` is the engine's ``papertape_decision`` hook (None when no plugin supplies
    decisions): a strategy made of other strategies (the ensemble voter) asks it under each
    member's id before asking the member, so supplied decisions reach members as they reach
    slots.
    """


class Strategy:
    """Base class of strategies (subclass it; override ``on_bar``).

    Attributes:
        name: Registry name used in configs and ``--strategy``.
        defaults: Parameter names with default values (their types drive CLI coercion).
        p: Resolved parameters as attributes (``self.p.fast``).
        params: Resolved parameters as a read-only mapping (journaled with the run).
    """

    name: ClassVar[str] = ""
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, **params: Any) -> None:
        resolved = resolve_params(f"strategy {self.name!r}", self.defaults, params)
        self.params = MappingProxyType(resolved)
        self.p = SimpleNamespace(**resolved)
        self.validate()

    @classmethod
    def unreachable(cls, params: Mapping[str, Any]) -> str:
        """Why a strategy with these params cannot run here ("" when it can). Optional.

        Asked before a run with the configured (unresolved) params, without creating the
        strategy: a trader that needs an API key which is not set says so, and an arena
        leaves it out, naming the reason, instead of journaling a window of failed calls.

        Args:
            params: The strategy's ``params`` from the config (defaults not filled in).

        Returns:
            A short reason such as ``"ANTHROPIC_API_KEY is not set"``, or ``""``.
        """
        return ""

    def validate(self) -> None:
        """Check parameter combinations; raise ConfigError naming the key. Optional."""

    def on_start(self, ctx: StrategyContext) -> None:
        """Called once before the first bar. Optional."""

    def on_bar(self, snap: Snapshot, portfolio: PortfolioView) -> Decision | Awaitable[Decision]:
        """Decide on one snapshot; return signals, None, or an awaitable of those."""
        raise NotImplementedError

    def on_fill(self, fill: Fill) -> None:
        """Called after one of this strategy's orders filled. Optional."""

    def on_stop(self) -> None:
        """Called once after the last bar. Optional."""

    def stats(self) -> dict[str, Any]:
        """Strategy-specific run figures, JSON-ready (``--json`` shows them). Optional."""
        return {}


class TargetMemory:
    """Remembers each symbol's last requested target so a strategy signals only on a change.

    Built with the strategy's context, it forgets what was asked in the run's warm-up (the
    engine drops warm-up signals, so the book is still flat when the window opens): pass the
    snapshot's time as ``at`` and a stance taken before ``ctx.trade_from`` is asked again on the
    window's first bar.
    """

    __slots__ = ("_last", "_trade_from")

    def __init__(self, ctx: StrategyContext | None = None) -> None:
        self._last: dict[str, Target] = {}
        self._trade_from: int | None = getattr(ctx, "trade_from", None)

    def change(
        self, symbol: str, target: Target, reason: str, *, at: int | None = None
    ) -> Signal | None:
        """Return a signal for ``target`` unless it is the one last requested for ``symbol``.

        ``at`` (the snapshot's time): before the run's window opens nothing is remembered or
        signalled.
        """
        if at is not None and self._trade_from is not None and at < self._trade_from:
            return None
        if self._last.get(symbol, Target.FLAT) is target:
            return None
        self._last[symbol] = target
        return Signal(target, reason=reason)
