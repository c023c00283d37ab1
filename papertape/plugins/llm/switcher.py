"""The switcher: route each decision to the model with the best trailing risk-adjusted record.

Every decision asks *all* the models of ``models`` (concurrently; each call cached and
budgeted). Each model keeps a paper book of its own advice — long after a BUY, short after a
SELL when shorting is allowed, flat after a CLOSE (or a SELL without shorting), unchanged on
HOLD — marked at every decision's price. Its score is the Sharpe-like ratio mean / standard
deviation of its last ``window`` marked returns (the nof1 "auto model switching").

Routing rules:

- a model is *eligible* once it has ``min_eval`` marked returns (the minimum evaluation
  period); before any model is eligible, the first model of the list trades;
- the incumbent is replaced only when an eligible challenger's score beats it by more than
  ``hysteresis`` (so two close models do not flap);
- when the routed model cannot answer (provider failure, time-out, refusal, invalid answer),
  the best-scoring model that did answer is used for this decision only;
- when no model answers, a rule decides (:func:`rule_decision`: long above the ``rule_sma``
  average, flat below it), with reason code ``rule_based``.

The journal's ``llm_decision`` names the routed model; its ``detail`` gives every model's
score, so the routing can be audited and replayed from the cache.

Memory (``memory = k``) works as for the LLM trader: every model's prompt (chat or few-shot)
shows the same recalled situations (:meth:`LlmTrader._request`, outcomes known by the decision
bar only), so the routed model decided with them and its answer's cache key holds them; the
decision journals their ids.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from papertape.engine.errors import ConfigError
from papertape.engine.indicators import sma
from papertape.plugins.llm.schema import Action, ReasonCode, TradeDecision
from papertape.plugins.llm.trader import Consulted, LlmTrader

if TYPE_CHECKING:
    from papertape.engine.portfolio import PortfolioView
    from papertape.engine.snapshot import Snapshot
    from papertape.engine.strategy import StrategyContext

__all__ = ["ModelBook", "ModelRouter", "SwitcherTrader", "rule_decision"]


@dataclass(slots=True)
class ModelBook:
    """The paper book of one model's advice.

    Attributes:
        position: +1 long, -1 short, 0 flat (unit exposure).
        returns: Marked returns of the advice, newest last.
        last_price: The price of the previous mark.
    """

    window: int
    position: float = 0.0
    returns: deque[float] = field(default_factory=deque)
    last_price: float | None = None

    def mark(self, price: float) -> None:
        """Book the return of the current advice since the previous mark."""
        if self.last_price is not None and self.last_price > 0.0:
            self.returns.append(self.position * (price / self.last_price - 1.0))
            while len(self.returns) > self.window:
                self.returns.popleft()
        self.last_price = price

    def follow(self, action: Action, allow_short: bool) -> None:
        """Take the model's new advice."""
        if action is Action.BUY:
            self.position = 1.0
        elif action is Action.SELL:
            self.position = -1.0 if allow_short else 0.0
        elif action is Action.CLOSE:
            self.position = 0.0

    def score(self) -> float:
        """Mean over standard deviation of the trailing returns (0 without risk or history)."""
        if len(self.returns) < 2:
            return 0.0
        r = np.fromiter(self.returns, dtype=np.float64)
        sd = float(np.std(r, ddof=1))
        return float(np.mean(r)) / sd if sd > 1e-12 else 0.0


@dataclass(slots=True)
class ModelRouter:
    """Picks the incumbent model with a minimum evaluation period and hysteresis."""

    labels: list[str]
    window: int
    min_eval: int
    hysteresis: float
    books: dict[str, ModelBook] = field(default_factory=dict)
    incumbent: str = ""

    def __post_init__(self) -> None:
        self.books = {label: ModelBook(self.window) for label in self.labels}
        self.incumbent = self.labels[0]

    def eligible(self) -> list[str]:
        """Models with at least ``min_eval`` marked returns."""
        return [lb for lb in self.labels if len(self.books[lb].returns) >= self.min_eval]

    def route(self) -> str:
        """The incumbent after this decision's marks (switching only past the hysteresis)."""
        ready = self.eligible()
        if not ready:
            return self.incumbent
        best = max(ready, key=lambda lb: self.books[lb].score())
        current = self.books[self.incumbent].score() if self.incumbent in ready else -math.inf
        if best != self.incumbent and self.books[best].score() > current + self.hysteresis:
            self.incumbent = best
        return self.incumbent

    def scores(self) -> str:
        """``label score/n`` for the journal."""
        return ", ".join(
            f"{lb} {self.books[lb].score():.2f}/{len(self.books[lb].returns)}" for lb in self.labels
        )


def rule_decision(snap: Snapshot, held: float, period: int) -> TradeDecision:
    """Long above the ``period``-bar average, flat below it (when every model is down)."""
    close = np.array(snap.window("close", period), dtype=np.float64)
    if len(close) < period:
        return TradeDecision(reasoning="rule: not enough history", action=Action.HOLD, size=0.0,
                             confidence=0.5)  # fmt: skip
    above = float(close[-1]) > float(sma(close, period)[-1])
    if above and held <= 0.0:
        action, size = Action.BUY, 0.5
    elif not above and held > 0.0:
        action, size = Action.CLOSE, 0.0
    else:
        action, size = Action.HOLD, 0.0
    side = "above" if above else "below"
    why = f"rule: every model is down; price {side} its {period}-bar average"
    return TradeDecision(reasoning=why, action=action, size=size, confidence=0.5)


class SwitcherTrader(LlmTrader):
    """Routes each decision to the model with the best trailing risk-adjusted record.

    Parameters, besides the LLM trader's (``models`` names the candidates, two or more):
        window: Marked returns a score looks back over.
        min_eval: Marked returns a model needs before it can be routed to.
        hysteresis: Score margin a challenger needs over the incumbent.
        rule_sma: Period of the rule that decides when every model is down.
    """

    name: ClassVar[str] = "llm_switcher"
    defaults: ClassVar[dict[str, Any]] = {
        **LlmTrader.defaults,
        "window": 20,
        "min_eval": 5,
        "hysteresis": 0.2,
        "rule_sma": 50,
    }

    def validate(self) -> None:
        """The LLM trader's checks, two or more models, and sane routing parameters."""
        super().validate()
        p = self.p
        if len(p.models) < 2:
            raise ConfigError("params.models", p.models, "the switcher needs two or more models")
        for key, ok in (
            ("window", p.window >= 2),
            ("min_eval", 1 <= p.min_eval <= p.window),
            ("hysteresis", p.hysteresis >= 0.0),
            ("rule_sma", p.rule_sma >= 2),
        ):
            if not ok:
                raise ConfigError(f"params.{key}", getattr(p, key), "out of range")

    def on_start(self, ctx: StrategyContext) -> None:
        """The LLM trader's set-up plus one paper book per model."""
        super().on_start(ctx)
        labels = [link.label for link in self.chain]
        if len(set(labels)) != len(labels):
            raise ConfigError("params.models", self.p.models, "models must differ")
        self.router = ModelRouter(labels, self.p.window, self.p.min_eval, self.p.hysteresis)

    async def _consult(
        self, snap: Snapshot, portfolio: PortfolioView, decision_id: str
    ) -> Consulted:
        asked = []
        for link in self.chain:
            prompt, request = self._request(link, snap, portfolio)
            asked.append((link, prompt, request))
        answers = await asyncio.gather(*(self._answer(req, link) for link, _, req in asked))
        results = []
        for (link, prompt, request), answer in zip(asked, answers, strict=True):
            code, detail, decision = self._judge(answer)
            results.append(Consulted(link, prompt, request, answer, code, detail, decision))
        for book in self.router.books.values():
            book.mark(snap.price)
        routed = self.router.route()
        valid = {r.link.label: r for r in results if r.code is ReasonCode.OK and r.decision}
        for label, r in valid.items():
            assert r.decision is not None
            self.router.books[label].follow(r.decision.action, self.p.allow_short)
        scores = f"scores {self.router.scores()}"
        if routed in valid:
            got = valid[routed]
            return _with_detail(got, f"switcher: routed to {routed}; {scores}")
        if valid:
            stand_in = max(valid, key=lambda lb: self.router.books[lb].score())
            why = f"switcher: {routed} did not answer, {stand_in} stood in; {scores}"
            return _with_detail(valid[stand_in], why)
        first = next(r for r in results if r.link.label == routed)
        decision = rule_decision(snap, portfolio.qty(snap.symbol), self.p.rule_sma)
        why = f"switcher: no model answered ({first.code.value}); {scores}"
        return Consulted(first.link, first.prompt, first.request, first.answer,
                         ReasonCode.RULE_BASED, why, decision)  # fmt: skip


def _with_detail(got: Consulted, why: str) -> Consulted:
    detail = f"{why}. {got.detail}".strip() if got.detail else why
    return Consulted(got.link, got.prompt, got.request, got.answer, got.code, detail, got.decision)
