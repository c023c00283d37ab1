"""Signals, orders and fills: the values that flow from a strategy's decision to the portfolio."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from papertape.engine.errors import ExecutionError
from papertape.engine.values import fast_frozen_init

__all__ = ["Fill", "Order", "OrderRole", "OrderType", "Side", "Signal", "Target"]


class Target(enum.StrEnum):
    """The position a signal asks for."""

    LONG = "long"
    SHORT = "short"
    FLAT = "flat"


class Side(enum.IntEnum):
    """Direction of an order or fill (the sign of the quantity change)."""

    BUY = 1
    SELL = -1


class OrderType(enum.StrEnum):
    """How an order executes."""

    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"


class OrderRole(enum.StrEnum):
    """Why an order exists."""

    ENTRY = "entry"  # moves the position towards a signal's target
    STOP_LOSS = "stop_loss"  # bracket child, reduce-only
    TAKE_PROFIT = "take_profit"  # bracket child, reduce-only
    LIQUIDATION = "liquidation"  # forced by a shield or a disabled strategy


@dataclass(frozen=True, slots=True)
class Signal:
    """A strategy's request to hold a target position in a symbol.

    Attributes:
        target: LONG, SHORT or FLAT. The sizer decides how large LONG/SHORT is.
        symbol: Symbol to trade; ``None`` means the snapshot's symbol.
        order_type: MARKET (default), LIMIT or STOP for the entry.
        price: Limit price or stop trigger for LIMIT/STOP entries.
        stop_loss: Absolute stop-loss price attached as a bracket to the entry.
        take_profit: Absolute take-profit price attached as a bracket to the entry.
        size: Optional size hint as a fraction of equity (sizers may honour it).
        reason: Free text recorded in the journal.

    A malformed signal is refused where it is made, so the strategy that made it is named:
    enums may be given as their text (``"long"``), prices and sizes must be real, finite
    numbers (prices > 0, size >= 0); a nan stop would otherwise open a position without its
    bracket.

    Raises:
        ExecutionError: A field has the wrong type or an impossible value.
    """

    target: Target
    symbol: str | None = None
    order_type: OrderType = OrderType.MARKET
    price: float | None = None
    stop_loss: float | None = None
    take_profit: float | None = None
    size: float | None = None
    reason: str = ""

    def __post_init__(self) -> None:
        if self.target.__class__ is not Target:
            object.__setattr__(self, "target", _member(Target, "target", self.target))
        if self.order_type.__class__ is not OrderType:
            kind = _member(OrderType, "order_type", self.order_type)
            object.__setattr__(self, "order_type", kind)
        if self.symbol is not None and not isinstance(self.symbol, str):
            raise ExecutionError(f"Signal.symbol must be text or None, got {self.symbol!r}")
        if not isinstance(self.reason, str):
            raise ExecutionError(f"Signal.reason must be text, got {self.reason!r}")
        for name in ("price", "stop_loss", "take_profit", "size"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _number(name, value, name == "size"))

    @classmethod
    def long(cls, reason: str = "", **kw: object) -> Signal:
        """Ask for a long position."""
        return cls(Target.LONG, reason=reason, **kw)  # type: ignore[arg-type]

    @classmethod
    def short(cls, reason: str = "", **kw: object) -> Signal:
        """Ask for a short position."""
        return cls(Target.SHORT, reason=reason, **kw)  # type: ignore[arg-type]

    @classmethod
    def flat(cls, reason: str = "", **kw: object) -> Signal:
        """Ask to close any position."""
        return cls(Target.FLAT, reason=reason, **kw)  # type: ignore[arg-type]


def _member(kind: type[enum.StrEnum], name: str, value: object) -> enum.StrEnum:
    try:
        return kind(value)  # type: ignore[arg-type]  # any value: a wrong one raises below
    except ValueError:
        choices = ", ".join(m.value for m in kind)
        raise ExecutionError(f"Signal.{name} must be one of {choices}, got {value!r}") from None


def _number(name: str, value: object, zero_ok: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        item = getattr(value, "item", None)  # numpy scalars are numbers too
        value = item() if callable(item) else value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ExecutionError(f"Signal.{name} must be a number, got {value!r}")
    x = float(value)
    if not math.isfinite(x):
        raise ExecutionError(f"Signal.{name} must be finite, got {x!r}")
    if x < 0.0 or (x == 0.0 and not zero_ok):
        raise ExecutionError(f"Signal.{name} must be {'>= 0' if zero_ok else '> 0'}, got {x!r}")
    return x


@dataclass(slots=True)
class Order:
    """A working order of one strategy. Mutable only by the execution simulator."""

    id: int
    strategy: str
    symbol: str
    side: Side
    qty: float
    type: OrderType
    role: OrderRole
    created_time: int
    price: float | None = None  # limit price or stop trigger
    reduce_only: bool = False
    stop_loss: float | None = None  # bracket prices carried by an entry
    take_profit: float | None = None
    oco_id: int | None = None  # the other leg of a bracket
    active: bool = True


@dataclass(frozen=True, slots=True)
class Fill:
    """An execution of (part of) an order.

    ``price`` includes slippage; ``fee`` is paid in the quote currency on top of the notional.
    """

    order_id: int
    strategy: str
    symbol: str
    side: Side
    qty: float
    price: float
    fee: float
    slippage: float  # cost of slippage in quote currency (>= 0 when adverse)
    liquidity: str  # "maker" or "taker"
    role: OrderRole
    time: int


fast_frozen_init(Fill)  # built once per fill on the hot path
