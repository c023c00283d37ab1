"""What each shield saved or cost: the positions it kept out, marked over what followed.

Two things a shield does to a slot's book, both in the journal:

* a **veto** (``veto`` event) refuses part of an order: ``side * (requested_qty -
  allowed_qty)`` units of the symbol were never bought or sold;
* a **halt** (``shield_tripped`` with state ``halted``) cuts the slot's positions: the
  ``liquidation`` fills that follow it sold (or bought back) what was held.

Either way there is a position the slot would have had without the shield. Its P&L is marked
from the moment of the shield's action to the earlier of the slot's next decision on that
symbol (``signal``) and the shield's re-arming (``shield_released`` of the same shield and
slot), or the end of the run: for a veto from the decision bar's close, for a cut from the
liquidation fill's price, to the close at that end; no costs. What the shield **saved** is
minus that P&L: positive when the kept-out position would have lost money, negative (a cost)
when it would have made some. A ``reduce_only`` trip changes the book only through the vetoes
that follow it, so it is counted there.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["ShieldEffect", "saved_by_shield", "shield_effects"]

GLOBAL = "*"


@dataclass(frozen=True, slots=True)
class ShieldEffect:
    """One veto or cut and what the position kept out of the book would have made.

    Attributes:
        strategy: The slot whose book it changed.
        shield: The shield's name; ``owner`` is the shield's slot (``*``: portfolio-level).
        owner: ``strategy`` for a slot's own shield, ``*`` for a portfolio-level one.
        action: ``veto`` or ``cut``.
        symbol: The symbol.
        time: When the shield acted (the decision bar of a veto, the fill of a cut).
        until: The end of the comparison (next decision, re-arming or the run's end).
        qty: Signed units kept out of the book (long > 0).
        price: The price they are marked from.
        pnl: What they would have made by ``until``.
    """

    strategy: str
    shield: str
    owner: str
    action: str
    symbol: str
    time: int
    until: int
    qty: float
    price: float
    pnl: float

    @property
    def saved(self) -> float:
        """What the shield saved (negative: what it cost)."""
        return -self.pnl + 0.0


def _price(closes: tuple[np.ndarray, np.ndarray], t: int) -> float:
    times, px = closes
    i = int(np.searchsorted(times, t, side="right")) - 1
    return float(px[max(i, 0)])


def _first_after(times: Sequence[int], t: int) -> int | None:
    later = [x for x in times if x > t]
    return min(later) if later else None


def shield_effects(
    records: Sequence[Mapping[str, Any]],
    closes: Mapping[str, tuple[np.ndarray, np.ndarray]],
) -> list[ShieldEffect]:
    """Every veto and cut of a journal with its marked P&L (see the module docs)."""
    end = max(int(r.get("time") or 0) for r in records)
    decisions: dict[tuple[str, str], list[int]] = defaultdict(list)
    releases: dict[tuple[str, str], list[int]] = defaultdict(list)
    halts: list[Mapping[str, Any]] = []
    for r in records:
        kind = r["kind"]
        if kind == "signal":
            decisions[(r["strategy"], r["symbol"])].append(int(r["time"]))
        elif kind == "shield_released":
            releases[(r["strategy"], r["shield"])].append(int(r["time"]))
        elif kind == "shield_tripped" and r.get("state") == "halted":
            halts.append(r)

    def until(slot: str, owner: str, shield: str, symbol: str, t: int) -> int:
        ends = [
            _first_after(decisions[(slot, symbol)], t),
            _first_after(releases[(owner, shield)], t),
            _first_after(releases[(GLOBAL, shield)], t),  # a portfolio-level shield's veto
        ]
        return min([x for x in ends if x is not None] or [end])

    out = []
    for r in records:
        kind = r["kind"]
        if kind == "veto" and r["symbol"] in closes:
            t, sym, slot = int(r["time"]), r["symbol"], r["strategy"]
            qty = int(r["side"]) * (float(r["requested_qty"]) - float(r["allowed_qty"]))
            stop = until(slot, slot, r["shield"], sym, t)
            p0 = _price(closes[sym], t)
            pnl = qty * (_price(closes[sym], stop) - p0)
            out.append(ShieldEffect(slot, r["shield"], slot, "veto", sym, t, stop, qty, p0, pnl))
        elif kind == "fill" and r.get("role") == "liquidation" and r["symbol"] in closes:
            t, sym, slot = int(r["time"]), r["symbol"], r["strategy"]
            halt = next(
                (
                    h
                    for h in reversed(halts)
                    if int(h["time"]) <= t and h["strategy"] in (slot, GLOBAL)
                ),
                None,
            )
            if halt is None:
                continue
            owner, shield = str(halt["strategy"]), str(halt["shield"])
            qty = -int(r["side"]) * float(r["qty"])
            price = float(r["price"])
            stop = until(slot, owner, shield, sym, t)
            pnl = qty * (_price(closes[sym], stop) - price)
            out.append(ShieldEffect(slot, shield, owner, "cut", sym, t, stop, qty, price, pnl))
    return out


def saved_by_shield(effects: Sequence[ShieldEffect]) -> dict[str, dict[str, float]]:
    """Per ``"<owner> <shield>"``: vetoes, cuts and the summed amount saved (cost < 0)."""
    out: dict[str, dict[str, float]] = {}
    for e in effects:
        row = out.setdefault(f"{e.owner} {e.shield}", {"vetoes": 0, "cuts": 0, "saved": 0.0})
        row["vetoes" if e.action == "veto" else "cuts"] += 1
        row["saved"] += e.saved
    return dict(sorted(out.items()))
