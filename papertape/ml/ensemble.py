"""Ensemble weights learned on a training window: each member's edge at calling the next bar.

While the training window lasts, the ensemble voter asks its members as usual but does not
trade; :class:`LearnedWeights` scores each member's stance at every training bar against the
direction of the symbol's *next* close: a LONG stance is right when the next close is higher,
SHORT when it is lower, FLAT when it is not higher. A pair (bar, next bar) is scored only when
the next bar is still inside the training window, so no bar of the trading window is ever
used. When the window ends the weights are fixed for the rest of the run::

    weight = prior × max(0, 2 × hit_rate − 1)      (hit_rate over the member's scored calls)

``2 × hit_rate − 1`` is the member's edge over a coin flip (0 at 50 % right, 1 at always
right), so a member that is right more often gets more weight and one that is no better than
chance gets none. ``prior`` is the member's configured weight (``@w``, default 1). If no member
beats chance the configured weights are kept (and :attr:`LearnedWeights.fallback` says so).

Why this rather than a logistic regression on the members' signed confidences: with a few
members and a few hundred daily bars a regression's coefficients are noisy and can go negative
(a member would vote against itself); a hit rate is what a trader can check by hand and does
not need an optimiser.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["LearnedWeights"]


@dataclass(slots=True)
class LearnedWeights:
    """Scores members while training and fixes their weights when training ends.

    Args:
        priors: Configured weight per member name.
        train_end: Bars opening at or after this time (ns) are not training bars (or None).
        train_bars: The first N bars of each symbol are training bars (or 0).
    """

    priors: dict[str, float]
    train_end: int | None = None
    train_bars: int = 0
    hits: dict[str, int] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    weights: dict[str, float] | None = None  # fixed once training is over
    fallback: bool = False
    _last: dict[str, tuple[float, dict[str, float]]] = field(default_factory=dict)

    def in_training(self, time: int, bars_seen: int) -> bool:
        """Whether a bar (its open ``time``, the symbol's ``bars_seen`` so far) trains."""
        if self.weights is not None:
            return False
        if self.train_end is not None:
            return time < self.train_end
        return bars_seen <= self.train_bars

    def observe(self, symbol: str, close: float, votes: dict[str, float]) -> None:
        """Score the previous training bar's stances against this close; remember these.

        Args:
            symbol: The bar's symbol.
            close: Its close.
            votes: Each member's signed vote (+ long, − short, 0 flat); members without a
                stance are left out.
        """
        prev = self._last.get(symbol)
        if prev is not None:
            before, stances = prev
            up, down = close > before, close < before
            for name, vote in stances.items():
                right = (vote > 0 and up) or (vote < 0 and down) or (vote == 0 and not up)
                self.calls[name] = self.calls.get(name, 0) + 1
                self.hits[name] = self.hits.get(name, 0) + int(right)
        self._last[symbol] = (close, dict(votes))

    def hit_rate(self, name: str) -> float | None:
        """The member's share of right calls in training (None if it made none)."""
        n = self.calls.get(name, 0)
        return self.hits.get(name, 0) / n if n else None

    def freeze(self) -> dict[str, float]:
        """Fix the weights (see the module docs) and return them."""
        if self.weights is not None:
            return self.weights
        learned = {}
        for name, prior in self.priors.items():
            rate = self.hit_rate(name)
            learned[name] = prior * max(0.0, 2.0 * rate - 1.0) if rate is not None else 0.0
        if sum(learned.values()) <= 0.0:
            learned, self.fallback = dict(self.priors), True
        self.weights = learned
        self._last.clear()
        return learned
