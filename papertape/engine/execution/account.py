"""Buying power: how much of an order an account can pay for at its fill price.

Sizing happens on the decision bar's close and the fill on a later bar's open, so a gap can
make an order larger than the account can carry. The check runs *at the fill*, with the fill
price (slippage included) and its fee, and shrinks the part of an order that adds exposure;
the part that reduces a position always passes (an account can always close).

Two account types (``[account]`` in a run config, see docs/execution.md):

``cash`` (default)
    Buys are paid from cash: a buy never takes cash below zero, fee included. A cash account
    cannot short: a sell beyond the long position held is cut to that position (a flip from
    long to short becomes a close). Cash therefore never goes below zero.

``margin``
    Longs may borrow and shorts are allowed. Margin rule, applied to the exposure an order
    adds: after the fill, gross exposure ``Σ |qty| × price`` (this symbol at the fill price,
    others at their last marks) must not exceed ``max_leverage × equity``, equity being
    ``cash + Σ qty × price`` on the same prices, after the fee. Longs and shorts count alike,
    so a short needs ``1 / max_leverage`` of its notional as equity (with the default
    ``max_leverage = 2``: 50 % initial margin, as under Regulation T). Positions are not
    liquidated when later price moves push the ratio past the limit (no maintenance margin);
    only new exposure is refused.

A shrink is journaled as an ``OrderVetoed`` event with ``shield = "buying_power"`` and the reason.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from papertape.engine.errors import ConfigError
from papertape.engine.events import OrderVetoed
from papertape.engine.execution.orders import Side

if TYPE_CHECKING:
    from papertape.engine.events import Event
    from papertape.engine.execution.fees import FeeSchedule
    from papertape.engine.execution.orders import Order
    from papertape.engine.portfolio import Portfolio

__all__ = ["BUYING_POWER", "Account", "AccountType", "BuyingPower", "round_to_lot"]

BUYING_POWER = "buying_power"  # the "shield" named in vetoes from the account check
AccountType = Literal["cash", "margin"]


def round_to_lot(qty: float, lot_size: float) -> float:
    """Round a non-negative quantity down to a whole number of lots (``lot_size <= 0``: as is).

    A relative tolerance of 1e-9 lot keeps ``0.3 / 0.1`` (2.9999999999999996) at three lots.
    """
    if lot_size <= 0.0 or qty <= 0.0:
        return qty
    return math.floor(qty / lot_size + 1e-9) * lot_size


@dataclass(frozen=True, slots=True)
class Account:
    """An account type and its limits.

    Attributes:
        type: ``"cash"`` (no borrowing, no shorts) or ``"margin"``.
        max_leverage: Margin accounts: gross exposure may reach this multiple of equity.
    """

    type: AccountType = "cash"
    max_leverage: float = 2.0

    def __post_init__(self) -> None:
        if self.type not in ("cash", "margin"):
            raise ConfigError("account.type", self.type, "must be 'cash' or 'margin'")
        if not (math.isfinite(self.max_leverage) and self.max_leverage > 0.0):
            raise ConfigError("account.max_leverage", self.max_leverage, "must be > 0")

    def affordable(
        self,
        portfolio: Portfolio,
        marks: Mapping[str, float],
        symbol: str,
        side: Side,
        qty: float,
        price: float,
        fee_rate: float,
    ) -> tuple[float, str]:
        """The largest part of an order of ``qty`` at ``price`` the account can take.

        Args:
            portfolio: The strategy's portfolio before the fill.
            marks: Last prices of the other symbols held.
            symbol: The order's symbol.
            side: BUY or SELL.
            qty: The quantity the order would fill (> 0).
            price: Fill price, slippage included.
            fee_rate: Fee as a fraction of notional.

        Returns:
            ``(allowed, reason)``: ``allowed == qty`` and ``reason == ""`` when nothing is cut.
        """
        held = portfolio.qty(symbol)
        opposite = held != 0.0 and (held > 0.0) != (side is Side.BUY)
        reducing = min(qty, abs(held)) if opposite else 0.0
        adding = qty - reducing
        if adding <= 0.0:
            return qty, ""
        if self.type == "cash":
            if side is Side.SELL:
                return reducing, "a cash account cannot sell short"
            unit = price * (1.0 + fee_rate)
            room = portfolio.cash - reducing * unit
            most = max(room / unit, 0.0) if unit > 0.0 else adding
            if most >= adding:
                return qty, ""
            return reducing + most, (
                f"cash {portfolio.cash:.2f} buys {most:.8g} of {adding:.8g} at {price:.8g} "
                "with fees"
            )
        equity = portfolio.cash
        gross_other = 0.0
        for sym, pos in portfolio.positions.items():
            px = price if sym == symbol else marks[sym]
            equity += pos.qty * px
            if sym != symbol:
                gross_other += abs(pos.qty) * px
        lev = self.max_leverage
        kept = abs(held) - reducing  # this symbol's exposure that stays (same side, or none)
        room = lev * (equity - fee_rate * price * reducing) - gross_other - kept * price
        most = max(room / (price * (1.0 + lev * fee_rate)), 0.0) if price > 0.0 else adding
        if most >= adding:
            return qty, ""
        return reducing + most, (
            f"margin: gross exposure capped at {lev:g} x equity {equity:.2f}; "
            f"{most:.8g} of {adding:.8g} fit at {price:.8g}"
        )


class BuyingPower:
    """The simulator's account check, bound to an engine's portfolios and marks.

    Called by :meth:`ExecutionSimulator.on_bar` for every fill that is not reduce-only; it
    returns the quantity allowed and journals a shrink through ``emit``.
    """

    __slots__ = ("_emit", "_lots", "_marks", "_portfolios")

    def __init__(
        self,
        portfolios: Mapping[str, Portfolio],
        marks: Mapping[str, float],
        emit: Callable[[Event], None],
        lot_sizes: Mapping[str, float] | None = None,
    ) -> None:
        self._portfolios = portfolios
        self._marks = marks
        self._emit = emit
        self._lots = dict(lot_sizes or {})

    def __call__(
        self,
        account: Account,
        fees: FeeSchedule,
        order: Order,
        qty: float,
        price: float,
        taker: bool,
        time: int,
    ) -> float:
        """Return how much of ``qty`` may fill at ``price``; journal the cut if any."""
        pf = self._portfolios[order.strategy]
        if account.type == "cash":
            # Fast paths, exact in floating point (the portfolio books the same expressions):
            # a buy that cash pays for, a sell within the long position.
            if order.side is Side.BUY:
                notional = qty * price
                if notional + fees.fee(notional, taker) <= pf.cash:
                    return qty
            elif pf.qty(order.symbol) >= qty:
                return qty
        rate = (fees.taker_bps if taker else fees.maker_bps) * 1e-4
        allowed, why = account.affordable(
            pf, self._marks, order.symbol, order.side, qty, price, rate
        )
        if allowed < qty:
            held = abs(pf.qty(order.symbol))
            lot = self._lots.get(order.strategy, 0.0)
            if lot > 0.0 and allowed > held:
                allowed = held + round_to_lot(allowed - held, lot)
        if account.type == "cash" and order.side is Side.BUY:
            exact = _within_cash(pf.cash, allowed, price, fees, taker)
            if exact < allowed:  # the division above can be an ulp generous
                allowed = exact
                why = why or f"cash {pf.cash:.2f} short by rounding at {price:.8g}"
        if allowed >= qty:
            return qty
        self._emit(
            OrderVetoed(
                time,
                order.strategy,
                order.symbol,
                int(order.side),
                qty,
                allowed,
                BUYING_POWER,
                why,
            )
        )
        return allowed


def _within_cash(cash: float, qty: float, price: float, fees: FeeSchedule, taker: bool) -> float:
    """Step ``qty`` down by ulps until ``qty × price + fee <= cash`` holds in floating point.

    The portfolio books ``cash -= qty × price + fee``; in IEEE arithmetic that stays >= 0
    exactly when the cost is <= cash, so the check uses the very same expressions.
    """
    for _ in range(64):
        notional = qty * price
        if qty <= 0.0 or notional + fees.fee(notional, taker) <= cash:
            return max(qty, 0.0)
        qty = math.nextafter(qty, 0.0)
    return 0.0
