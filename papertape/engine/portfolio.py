"""Isolated per-strategy portfolios with exact, auditable cash accounting.

Accounting rules (quote currency):

* A fill of signed quantity ``q`` (``+`` buy, ``-`` sell) at price ``p`` with fee ``f`` moves
  ``cash -= q * p + f``. Shorts credit cash and hold a negative quantity. Whether an order may
  borrow or short is the account's business (``engine/execution/account.py``), checked before
  the fill reaches the portfolio.
* ``equity = cash + Σ qty × mark`` where ``mark`` is the last close of each symbol. It is computed
  from cash and positions at every step, never carried as a separate running number.
* A closed trade's ``pnl`` is net of both its entry fees (pro rata to the closed quantity) and its
  exit fees, so ``Σ trade.pnl + open unrealised − open entry fees = equity − initial cash``.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from papertape.engine.metrics import ClosedTrade
from papertape.engine.values import trusted_maker

if TYPE_CHECKING:
    from papertape.engine.execution.orders import Fill

__all__ = ["Portfolio", "PortfolioView", "Position", "PositionInfo"]


_closed_trade = trusted_maker(ClosedTrade)


class Position:
    """An open position in one symbol (mutable, owned by its portfolio)."""

    __slots__ = ("avg_price", "entry_fees", "entry_step", "entry_time", "qty", "symbol")

    def __init__(
        self,
        symbol: str,
        qty: float,
        avg_price: float,
        entry_time: int,
        entry_step: int,
        entry_fees: float,
    ) -> None:
        self.symbol = symbol
        self.qty = qty
        self.avg_price = avg_price
        self.entry_time = entry_time
        self.entry_step = entry_step
        self.entry_fees = entry_fees


@dataclass(frozen=True, slots=True)
class PositionInfo:
    """A read-only copy of a position handed to plugins."""

    symbol: str
    qty: float
    avg_price: float
    entry_time: int


class Portfolio:
    """Cash, positions, closed trades and the equity curve of one strategy."""

    __slots__ = (
        "cash",
        "curve",
        "fees_paid",
        "initial_cash",
        "positions",
        "realised_pnl",
        "strategy",
        "trades",
    )

    def __init__(self, strategy: str, initial_cash: float) -> None:
        self.strategy = strategy
        self.initial_cash = float(initial_cash)
        self.cash = float(initial_cash)
        self.positions: dict[str, Position] = {}
        self.realised_pnl = 0.0  # price P&L of closed quantity, before fees
        self.fees_paid = 0.0
        self.trades: list[ClosedTrade] = []
        self.curve: array[float] = array("d")

    def qty(self, symbol: str) -> float:
        """Signed quantity held in ``symbol`` (0.0 when flat)."""
        pos = self.positions.get(symbol)
        return pos.qty if pos is not None else 0.0

    def equity(self, marks: Mapping[str, float]) -> float:
        """Cash plus every position marked at ``marks[symbol]``."""
        eq = self.cash
        for sym, pos in self.positions.items():
            eq += pos.qty * marks[sym]
        return eq

    def gross_exposure(self, marks: Mapping[str, float]) -> float:
        """Σ |qty × mark| over open positions."""
        return sum(abs(p.qty * marks[s]) for s, p in self.positions.items())

    def apply(self, fill: Fill, step: int) -> list[ClosedTrade]:
        """Book a fill; return the trades it closed (one, or none; a flip closes one)."""
        q = fill.qty * fill.side
        self.cash -= q * fill.price + fill.fee
        self.fees_paid += fill.fee
        sym = fill.symbol
        pos = self.positions.get(sym)
        if pos is None:
            self.positions[sym] = Position(sym, q, fill.price, fill.time, step, fill.fee)
            return []
        if (pos.qty > 0) == (q > 0):
            total = pos.qty + q
            pos.avg_price = (pos.avg_price * pos.qty + fill.price * q) / total
            pos.qty = total
            pos.entry_fees += fill.fee
            return []
        # Reducing, closing or flipping.
        held = abs(pos.qty)
        closing = min(abs(q), held)
        direction = 1 if pos.qty > 0 else -1
        exit_fee = fill.fee * closing / fill.qty
        entry_fee = pos.entry_fees * closing / held
        price_pnl = (fill.price - pos.avg_price) * closing * direction
        self.realised_pnl += price_pnl
        trade = _closed_trade(  # ClosedTrade without re-checking what the booking guarantees
            sym,
            direction,
            closing,
            pos.entry_time,
            pos.avg_price,
            fill.time,
            fill.price,
            price_pnl - entry_fee - exit_fee,
            entry_fee + exit_fee,
            step - pos.entry_step,
        )
        self.trades.append(trade)
        remaining = pos.qty + q
        if closing == held or remaining == 0.0:
            del self.positions[sym]
            if abs(q) > held:  # flip: the rest opens the other way
                rest = abs(q) - held
                self.positions[sym] = Position(
                    sym, remaining, fill.price, fill.time, step, fill.fee * rest / fill.qty
                )
        else:
            pos.qty = remaining
            pos.entry_fees -= entry_fee
        return [trade]


class PortfolioView:
    """Read-only face of a portfolio given to strategies, sizers and shields.

    It reads the live portfolio (nothing is copied per tick) and offers no way to change it:
    the portfolio is captured in closures built once here, not stored on the view, so no
    attribute (``view._pf``), ``vars(view)`` or ``view.__dict__`` reaches it. Only
    introspection of the closures themselves (``__closure__``, ``gc``) could, and strategy
    code is trusted not to go there (docs/execution.md, "Who is trusted").
    """

    __slots__ = ("_cash", "_equity", "_facts", "_position", "_positions", "_trades", "qty")

    qty: Callable[[str], float]  # signed quantity held in a symbol (0.0 when flat)

    def __init__(self, portfolio: Portfolio, marks: Mapping[str, float]) -> None:
        positions = portfolio.positions  # the live dict and list, never rebound by Portfolio
        trades = portfolio.trades
        get = positions.get

        def qty(symbol: str) -> float:
            pos = get(symbol)
            return pos.qty if pos is not None else 0.0

        def position(symbol: str) -> PositionInfo | None:
            p = get(symbol)
            return None if p is None else PositionInfo(p.symbol, p.qty, p.avg_price, p.entry_time)

        def recent(n: int | None) -> tuple[ClosedTrade, ...]:
            return tuple(trades if n is None else trades[-n:])

        self.qty = qty
        self._position = position
        self._trades = recent
        self._cash: Callable[[], float] = lambda: portfolio.cash
        self._equity: Callable[[], float] = lambda: portfolio.equity(marks)
        self._positions: Callable[[], Mapping[str, float]] = lambda: MappingProxyType(
            {s: p.qty for s, p in positions.items()}
        )
        self._facts = (portfolio.strategy, portfolio.initial_cash)

    @property
    def strategy(self) -> str:
        """Owner strategy id."""
        return self._facts[0]

    @property
    def cash(self) -> float:
        """Cash balance (never negative in a cash account; may be in a margin account)."""
        return self._cash()

    @property
    def initial_cash(self) -> float:
        """Starting cash."""
        return self._facts[1]

    @property
    def equity(self) -> float:
        """Cash plus positions marked at last prices."""
        return self._equity()

    def position(self, symbol: str) -> PositionInfo | None:
        """A copy of the open position in ``symbol``, or None."""
        return self._position(symbol)

    @property
    def positions(self) -> Mapping[str, float]:
        """Signed quantities of open positions (a fresh read-only mapping)."""
        return self._positions()

    @property
    def trades(self) -> tuple[ClosedTrade, ...]:
        """Closed trades so far (a copy)."""
        return self._trades(None)

    def recent_trades(self, n: int) -> tuple[ClosedTrade, ...]:
        """The last ``n`` closed trades."""
        return self._trades(n) if n > 0 else ()
