"""Ensemble voter: several strategies vote, weighted by configured weights and confidence.

Each member is a strategy from the catalog (built-in, ``strategies/``, entry points) with its
own parameters and weight. A member's *stance* on a symbol is its last signal there (most
strategies signal only on a change): LONG votes +1, SHORT −1, FLAT 0, times the signal's
confidence (its ``size`` hint, else 1) and the member's weight. A member with no stance yet
abstains; a member that raises drops out of the vote for that bar (journaled as
``strategy_failed`` with the id ``<ensemble>/<member>``) and, after ``max_member_errors``
failures, for the rest of the run; a member returning an awaitable (an LLM trader) is not
supported here and abstains. The net vote ``Σ w·s·c / Σ w`` (over members with a stance) goes
LONG above ``threshold``, SHORT below ``−threshold`` when ``allow_short``, FLAT otherwise; the
ensemble signals only on a change of its own target. Config::

    [[strategies]]
    name = "ensemble"
    params = { members = "sma_cross:fast=10,slow=30@2; rsi_reversion@1; momentum", threshold = 0.3 }
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from papertape.engine.containment import CONTAINED, as_signals
from papertape.engine.errors import ConfigError
from papertape.engine.events import StrategyFailed
from papertape.engine.execution.orders import Signal, Target
from papertape.engine.strategy import Strategy, StrategyContext, TargetMemory

if TYPE_CHECKING:
    from papertape.engine.portfolio import PortfolioView
    from papertape.engine.snapshot import Snapshot

__all__ = ["EnsembleVoter", "Member", "parse_members"]

_VOTE = {Target.LONG: 1.0, Target.SHORT: -1.0, Target.FLAT: 0.0}


@dataclass(slots=True)
class Member:
    """One voter: its strategy, weight, last stance per symbol and health."""

    name: str
    strategy: Strategy
    weight: float
    stance: dict[str, tuple[Target, float]] = field(default_factory=dict)
    errors: int = 0
    out: bool = False


def _number(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def parse_members(text: str) -> list[tuple[str, dict[str, Any], float]]:
    """Parse ``"name:k=v,k=v@weight; name2"`` into (name, params, weight) triples.

    Raises:
        ConfigError: An empty list, a malformed part or a negative weight.
    """
    out = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        spec, _, weight_text = part.partition("@")
        name, _, params_text = spec.partition(":")
        try:
            weight = float(weight_text) if weight_text.strip() else 1.0
            params = {}
            for kv in (x.strip() for x in params_text.split(",") if x.strip()):
                k, eq, v = kv.partition("=")
                if not eq:
                    raise ValueError(kv)
                params[k.strip()] = _number(v.strip())
        except ValueError:
            raise ConfigError("params.members", part, "write name:k=v,k=v@weight") from None
        if not name.strip() or not weight >= 0.0:
            raise ConfigError("params.members", part, "needs a strategy name and a weight >= 0")
        out.append((name.strip(), params, weight))
    if not out:
        raise ConfigError("params.members", text, "give at least one member strategy")
    return out


class EnsembleVoter(Strategy):
    """Weighted vote of several strategies (see the module docstring)."""

    name: ClassVar[str] = "ensemble"
    defaults: ClassVar[dict[str, Any]] = {
        "members": "sma_cross; momentum",
        "threshold": 0.0,
        "allow_short": False,
        "max_member_errors": 3,
    }

    def validate(self) -> None:
        """Members parse; ``0 <= threshold < 1``."""
        self._specs = parse_members(str(self.p.members))
        if not 0.0 <= self.p.threshold < 1.0:
            raise ConfigError("params.threshold", self.p.threshold, "must be in [0, 1)")

    def on_start(self, ctx: StrategyContext) -> None:
        """Build and start every member."""
        from papertape.engine.registry import build_catalog, make_plugin_manager

        pm, broken = make_plugin_manager((), entry_points=False)
        catalog = build_catalog(pm, broken)
        self._ctx = ctx
        self._emit = getattr(ctx, "emit", None)
        self._memory = TargetMemory()
        self.members = [Member(n, catalog.strategy(n)(**params), w) for n, params, w in self._specs]
        self.failures = 0
        self.abstentions = 0
        for m in self.members:
            sub = StrategyContext(**vars(ctx))
            sub.id = f"{ctx.id}/{m.name}"
            m.strategy.on_start(sub)

    def _fail(self, m: Member, snap: Snapshot, exc: BaseException) -> None:
        m.errors += 1
        self.failures += 1
        if m.errors >= self.p.max_member_errors:
            m.out = True
        if self._emit is not None:
            self._emit(
                StrategyFailed(
                    snap.time,
                    f"{self._ctx.id}/{m.name}",
                    f"ensemble member dropped from the vote: {type(exc).__name__}: {exc}"
                    + (" (out for the rest of the run)" if m.out else ""),
                    m.errors,
                )
            )

    def on_bar(self, snap: Snapshot, portfolio: PortfolioView) -> Signal | None:
        """Ask every member, then vote."""
        sym = snap.symbol
        total = net = 0.0
        voters = []
        for m in self.members:
            if m.out:
                continue
            try:
                decision = m.strategy.on_bar(snap, portfolio)
                if inspect.isawaitable(decision):
                    getattr(decision, "close", lambda: None)()
                    decision = None
                for sig in as_signals(decision) if decision is not None else ():
                    if (sig.symbol or sym) == sym:
                        conf = 1.0 if sig.size is None else min(max(sig.size, 0.0), 1.0)
                        m.stance[sym] = (sig.target, conf)
            except CONTAINED as exc:
                self._fail(m, snap, exc)
                continue
            stance = m.stance.get(sym)
            if stance is None:
                self.abstentions += 1
                continue
            target, conf = stance
            total += m.weight
            net += m.weight * _VOTE[target] * conf
            voters.append(f"{m.name}={target}")
        if total <= 0.0:
            return None
        score = net / total
        if score > self.p.threshold:
            target = Target.LONG
        elif score < -self.p.threshold and self.p.allow_short:
            target = Target.SHORT
        else:
            target = Target.FLAT
        return self._memory.change(sym, target, f"vote {score:+.2f} ({', '.join(voters)})")

    def on_stop(self) -> None:
        """Stop every member (a failure there is journaled by the engine as ours)."""
        for m in self.members:
            m.strategy.on_stop()

    def stats(self) -> dict[str, Any]:
        """Member failures, abstentions and who is out."""
        return {
            "member_failures": self.failures,
            "abstentions": self.abstentions,
            "members_out": [m.name for m in self.members if m.out],
        }
