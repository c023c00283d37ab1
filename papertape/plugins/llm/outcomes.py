"""Links an LLM trader's decisions to the orders and fills they caused and to realised P&L.

The engine journals a signal's ``reason`` with the signal, and the trader puts the decision id
at the front of it (``[llm#12] ...``): that is the link from a decision to its signal and so to
the orders submitted right after it. This module closes the loop on the other side. It sees
every fill of the trader (``Strategy.on_fill``), attributes entry fills to the decision that
asked for them, remembers which decision opened each position, and when a trade closes it
produces an :class:`~engine.events.LlmOutcome` (P&L of the trade, the order ids involved, what
closed it) and an :class:`~plugins.llm.prompt.Outcome` that later prompts show back to the
model for self-reflection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from papertape.engine.events import LlmOutcome
from papertape.engine.execution.orders import OrderRole
from papertape.plugins.llm.prompt import Outcome

if TYPE_CHECKING:
    from papertape.engine.execution.orders import Fill
    from papertape.engine.metrics import ClosedTrade
    from papertape.engine.portfolio import PortfolioView

__all__ = ["TradeLinker"]


@dataclass(slots=True)
class _Opener:
    decision_id: str
    reasoning: str
    order_ids: list[int] = field(default_factory=list)


class TradeLinker:
    """Per-trader bookkeeping from decisions to fills to closed trades.

    Args:
        strategy_id: The trader's slot id (journaled with each outcome).
    """

    def __init__(self, strategy_id: str) -> None:
        self.strategy_id = strategy_id
        self._expected: dict[str, _Opener] = {}  # symbol -> decision whose entry may fill next
        self._open: dict[str, _Opener] = {}  # symbol -> decision that opened the position
        self.outcomes: list[Outcome] = []
        self._seen_trades = 0  # closed trades of the portfolio already linked

    def expect(self, symbol: str, decision_id: str, reasoning: str) -> None:
        """A decision asked for a position change in ``symbol``; its entry fills belong to it."""
        self._expected[symbol] = _Opener(decision_id, reasoning)

    def opened_by(self) -> dict[str, str]:
        """Decision ids that opened the currently open positions, by symbol."""
        return {s: o.decision_id for s, o in self._open.items()}

    def follow(self, fill: Fill, view: PortfolioView) -> tuple[list[LlmOutcome], float]:
        """:meth:`on_fill` for a fill of the trader's portfolio, read from its ``view``.

        Returns:
            The outcomes of the trades the fill closed, and the position held after it.
        """
        trades = view.trades
        closed = trades[self._seen_trades :]
        self._seen_trades = len(trades)
        after = view.qty(fill.symbol)
        before = after - fill.qty * int(fill.side)
        return self.on_fill(fill, closed, after, before), after

    def on_fill(
        self,
        fill: Fill,
        closed: Sequence[ClosedTrade],
        qty_after: float,
        qty_before: float,
    ) -> list[LlmOutcome]:
        """Attribute one fill; return an outcome event for each trade it closed.

        Args:
            fill: The fill.
            closed: Trades this fill closed (from the trader's portfolio).
            qty_after: Position in ``fill.symbol`` after the fill.
            qty_before: Position before the fill.
        """
        sym = fill.symbol
        source = self._expected.get(sym) if fill.role is OrderRole.ENTRY else None
        closer = source.decision_id if source is not None else fill.role.value
        opener = self._open.get(sym)
        if opener is not None:
            opener.order_ids.append(fill.order_id)
        events = []
        for tr in closed:
            owner = opener or _Opener("unlinked", "")
            ret = (tr.exit_price / tr.entry_price - 1.0) * tr.side if tr.entry_price else 0.0
            side = "long" if tr.side > 0 else "short"
            self.outcomes.append(
                Outcome(
                    owner.decision_id,
                    sym,
                    side,
                    tr.entry_time,
                    tr.exit_time,
                    tr.entry_price,
                    tr.exit_price,
                    tr.pnl,
                    ret,
                    closer,
                    owner.reasoning,
                )
            )
            events.append(
                LlmOutcome(
                    fill.time,
                    self.strategy_id,
                    owner.decision_id,
                    sym,
                    side,
                    tr.qty,
                    tr.entry_time,
                    tr.entry_price,
                    tr.exit_price,
                    tr.pnl,
                    ret,
                    tr.bars_held,
                    closer,
                    tuple(owner.order_ids),
                )
            )
        flipped = qty_after != 0.0 and (qty_before == 0.0 or (qty_after > 0) != (qty_before > 0))
        if qty_after == 0.0:
            self._open.pop(sym, None)
        elif flipped:
            src = source or _Opener("unlinked", "")
            self._open[sym] = _Opener(src.decision_id, src.reasoning, [fill.order_id])
        return events
