"""The shield contract shared by every risk protection.

A shield watches a portfolio (or, at portfolio level, all of them) and is in one of four states.
Restricted states only ever block or shrink orders that *add* exposure; orders that reduce a
position always pass, so a shield never traps a trader in a losing position:

* ``NORMAL``       everything passes (exposure caps may still shrink an order);
* ``REDUCE_ONLY``  only reducing orders pass;
* ``PAUSED``       like reduce-only, until a release condition (a bar count, a new day);
* ``HALTED``       positions are closed at once and nothing opens again in this run.

Every change of state is returned as a :class:`Transition`; the engine journals it as a
``shield_tripped`` / ``shield_released`` event.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, ClassVar

from papertape.engine.params import resolve_params

if TYPE_CHECKING:
    from papertape.engine.execution.orders import Fill
    from papertape.engine.metrics import ClosedTrade

__all__ = ["OrderIntent", "Shield", "ShieldState", "Transition"]


class ShieldState(enum.IntEnum):
    """Restriction level; higher is stricter."""

    NORMAL = 0
    REDUCE_ONLY = 1
    PAUSED = 2
    HALTED = 3


@dataclass(frozen=True, slots=True)
class Transition:
    """A shield's change of state and why."""

    state: ShieldState
    reason: str


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """An order a sizer produced, before shields look at it.

    Attributes:
        symbol: Symbol to trade.
        delta: Signed quantity change requested (+ buy, - sell).
        price: Reference price (the decision bar's close).
        position: Signed quantity held now.
        equity: Portfolio equity now.
        gross_exposure: Σ |qty × price| of the portfolio now.
    """

    symbol: str
    delta: float
    price: float
    position: float
    equity: float
    gross_exposure: float

    @property
    def reducing_part(self) -> float:
        """The part of ``delta`` that moves the position towards zero (signed, may be 0)."""
        if self.position == 0.0 or (self.delta > 0) == (self.position > 0):
            return 0.0
        return -self.position if abs(self.delta) > abs(self.position) else self.delta


class Shield:
    """Base class: one protection per module, all with this interface.

    Subclasses override the ``on_*`` hooks they need and return a :class:`Transition` when
    their state changes. ``check`` applies the state to an order; ``allow`` may be overridden
    by shields that shrink orders (exposure caps).
    """

    name: ClassVar[str] = ""
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, **params: Any) -> None:
        self.p = SimpleNamespace(
            **resolve_params(
                f"shield {self.name!r}",
                self.defaults,
                params,
                self.name,  # keys read like validate()'s: ``max_drawdown.halt_at``
                non_negative=True,
            )
        )
        self.state = ShieldState.NORMAL
        self.validate()

    def validate(self) -> None:
        """Check parameters; raise ConfigError naming the key. Optional."""

    def on_step(self, equity: float, time: int, step: int) -> Transition | None:
        """Called once per time step with the watched equity."""
        return None

    def on_trade(self, trade: ClosedTrade, step: int) -> Transition | None:
        """Called when a trade of the watched portfolio closes."""
        return None

    def on_fill(self, fill: Fill, step: int) -> Transition | None:
        """Called when an order of the watched portfolio fills."""
        return None

    def allow(self, intent: OrderIntent) -> tuple[float, str]:
        """Return (allowed signed delta, reason if shrunk) for an order under the current state."""
        if self.state is ShieldState.NORMAL:
            return intent.delta, ""
        allowed = intent.reducing_part
        return allowed, f"{self.state.name.lower()}: only reducing orders pass"

    def _set(self, state: ShieldState, reason: str) -> Transition | None:
        if state is self.state:
            return None
        self.state = state
        return Transition(state, reason)
