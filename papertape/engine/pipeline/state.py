"""The engine's state and settings, shared by the pipeline's stages.

:class:`EngineState` declares what every stage reads and writes (market state, portfolios,
the clock, the event batch) and the methods one stage calls on another; the stages are mixins
over it (``replay``, ``marking``, ``orders``, ``booking``, ``guard``) and
:class:`~papertape.engine.loop.Engine` puts them together.
"""

from __future__ import annotations

import asyncio
from array import array
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from papertape.engine.events import Event
from papertape.engine.execution.orders import OrderRole, OrderType
from papertape.engine.execution.simulator import ExecutionSimulator
from papertape.engine.portfolio import Portfolio, PortfolioView
from papertape.engine.snapshot import Snapshot
from papertape.engine.stepping import Moment

if TYPE_CHECKING:
    import pluggy

    from papertape.engine.containment import CallWatch, StopRequest
    from papertape.engine.delivery import EventDelivery
    from papertape.engine.execution.account import BuyingPower
    from papertape.engine.feeds.base import BarSeries
    from papertape.engine.market import SymbolHistory
    from papertape.engine.risk.base import Shield, Transition
    from papertape.engine.sizing import Sizer
    from papertape.engine.strategy import Strategy

__all__ = [
    "GLOBAL",
    "STALE_FEED",
    "EngineSettings",
    "EngineState",
    "RunInfo",
    "Slot",
    "SlotSpec",
    "TelemetryOutlet",
]

GLOBAL = "*"  # the owner named in events of portfolio-level shields
STALE_FEED = "stale_feed"  # the "shield" named in vetoes of orders from a stale snapshot


@dataclass(frozen=True, slots=True)
class RunInfo:
    """Identity and reproducibility facts of a run (journaled in ``run_started``)."""

    run_id: str = "adhoc"
    config_hash: str = ""
    data_hash: str = ""
    seed: int = 0
    mode: str = "backtest"
    version: str = ""


@dataclass(slots=True)
class SlotSpec:
    """One configured strategy instance with its sizer and shields."""

    id: str
    strategy: Strategy
    sizer: Sizer
    shields: Sequence[Shield] = ()
    symbols: Sequence[str] | None = None  # None = every symbol of the run
    initial_cash: float = 100_000.0


@dataclass(slots=True)
class Slot:
    """One strategy instance at run time: its portfolio, sizer, shields and health."""

    id: str
    strategy: Strategy
    sizer: Sizer
    shields: list[Shield]
    portfolio: Portfolio
    view: PortfolioView
    symbol_ids: list[int]
    errors: int = 0
    enabled: bool = True
    halted: bool = False
    exposed_steps: int = 0


class TelemetryOutlet(Protocol):
    """Where marked steps go for monitors: ``papertape.engine.telemetry.TelemetryChannel``.

    Lossy by contract: ``offer`` never blocks (a full channel drops and counts), and samples
    never touch the journal.
    """

    every: int

    def offer(self, sample: Any) -> bool:
        """Take one sample if there is room; False when it was dropped."""
        ...


@dataclass
class EngineSettings:
    """Engine-wide behaviour (the config maps onto this).

    Attributes:
        simulator: Fills working orders.
        max_strategy_errors: Failures after which a strategy is switched off.
        mark_every: Journal an ``equity`` event every N steps (0: never).
        telemetry: A lossy channel that gets a sample (equity, positions, marks, regimes) at
            the end of every ``telemetry.every``-th marked step; None costs nothing.
        trade_from: Start of the run's window (ns). Moments stamped before it are warm-up:
            their bars feed strategies and annotators (indicators), but decisions are
            dropped, nothing trades and no equity is marked.
    """

    simulator: ExecutionSimulator = field(default_factory=ExecutionSimulator)
    max_strategy_errors: int = 3
    mark_every: int = 0
    telemetry: TelemetryOutlet | None = None
    trade_from: int | None = None
    strategy_budget_s: float = 2.0  # seconds one on_bar call may take (0: no limit)
    risk_free: float = 0.0  # annual; read by the results (Sharpe, Sortino), not by the loop


class EngineState:
    """What the stages share; each attribute is set by ``Engine.__init__``."""

    series: list[BarSeries]
    symbols: tuple[str, ...]
    settings: EngineSettings
    sim: ExecutionSimulator
    run_info: RunInfo
    pm: pluggy.PluginManager
    histories: tuple[SymbolHistory, ...]
    marks: dict[str, float]
    counts: list[int]
    step_count: int
    step_times: array[int]
    now: int
    global_shields: list[Shield]
    event_counts: Counter[str]
    delivery: EventDelivery
    unsettled: list[Event]
    slots: list[Slot]
    _by_id: dict[str, Slot]
    _buying_power: BuyingPower
    _stop_request: StopRequest
    _watch: CallWatch
    _subs: list[list[Slot]]
    _index: dict[str, int]
    _regimes: dict[str, str]
    _annotate: Any
    _substitute: Any
    _replaying: bool
    _not_before: dict[int, int]
    _moments: Iterator[Moment] | None
    _next: Moment | None
    _sizes: Mapping[str, float] | None
    _step_loop: asyncio.AbstractEventLoop | None
    _plain: bool
    _arrived: int | None = None  # market time a late live decision arrived (None: on time)

    # Implemented by one stage, called by others.

    def emit(self, event: Event) -> None:
        """Add one event to the current tick's batch."""
        raise NotImplementedError

    def settle(self) -> None:
        """Deliver the tick's events."""
        raise NotImplementedError

    def _start(self) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        raise NotImplementedError

    def _annotated(self, snap: Snapshot) -> Snapshot:
        raise NotImplementedError

    def _fail(self, slot: Slot, exc: BaseException, t: int, disable: str = "") -> None:
        raise NotImplementedError

    def _decide(self, slot: Slot, decision: Any, snap: Snapshot) -> None:
        raise NotImplementedError

    def _submit(
        self,
        slot: Slot,
        sym: str,
        delta: float,
        kind: OrderType,
        role: OrderRole,
        t: int,
        price: float | None = None,
        stop_loss: float | None = None,
        take_profit: float | None = None,
    ) -> None:
        raise NotImplementedError

    def _liquidate(self, slot: Slot, t: int, reason: str) -> None:
        raise NotImplementedError

    def _execute(self, s: int, r: int, t: int) -> None:
        raise NotImplementedError

    def _plain_marking(self) -> bool:
        raise NotImplementedError

    def _mark_step(self, t: int) -> None:
        raise NotImplementedError

    def _transition(self, slot: Slot | None, shield: Shield, tr: Transition, t: int) -> None:
        raise NotImplementedError
