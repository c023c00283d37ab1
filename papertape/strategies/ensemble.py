"""Ensemble voter: several strategies vote, weighted by configured or learned weights.

Each member is a strategy from the catalog (built-in, ``strategies/``, entry points) with its
own parameters and weight; its own id is ``<ensemble>/<member>``. A member's *stance* on a
symbol is its last signal there (most strategies signal only on a change): LONG votes +1,
SHORT −1, FLAT 0, times the signal's confidence (its ``size`` hint, else 1) and the member's
weight. The net vote ``Σ w·s·c / Σ w`` (over members with a stance) goes LONG above
``threshold``, SHORT below ``−threshold`` when ``allow_short``, FLAT otherwise; the ensemble
signals only on a change of its own target.

Who votes on a bar:

* a member with no stance yet abstains silently (counted in :meth:`EnsembleVoter.stats`);
* a member that raises (or returns something that is not a signal) drops out of that vote,
  and after ``max_member_errors`` failures out of the rest of the run;
* a member whose ``on_bar`` returns an awaitable (an LLM trader) joins the vote: the ensemble
  then returns one awaitable for the bar, which gathers every member's awaitable concurrently
  (the engine awaits it with the moment's other slow decisions), each bounded by
  ``member_timeout_s`` (0: no limit). A member that times out drops out of that vote and the
  timeout counts as a failure; one whose awaitable resolves to nothing (``None`` or ``[]``: an
  LLM trader's HOLD, or an answer it could not use) *abstains*: it drops out of that vote and
  keeps its earlier stance for later bars.

Every drop-out (``failed``, ``timeout``, ``abstained``) is journaled as a ``member_dropped``
event. A member's decision can be supplied instead of computed through the engine's
``papertape_decision`` hook under the member's id (recorded decisions of a journal, another
trader's, a policy's), exactly as for a slot.

Weights: ``weights = "config"`` uses the ``@w`` of each member. ``weights = "learned"`` with
``train_end`` (a date) or ``train_bars`` (a count per symbol) scores every member on the
training bars and fixes the weights when the window ends (:mod:`papertape.ml.ensemble`); the
ensemble does not trade during its training window. Config::

    [[strategies]]
    name = "ensemble"
    params = { members = "sma_cross:fast=10,slow=30@2; rsi_reversion@1; momentum", threshold = 0.3 }
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Coroutine, Generator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from papertape.engine.containment import CONTAINED, as_signals
from papertape.engine.errors import ConfigError
from papertape.engine.events import MemberDropped
from papertape.engine.execution.orders import Signal, Target
from papertape.engine.strategy import Strategy, StrategyContext, TargetMemory
from papertape.ml.ensemble import LearnedWeights

if TYPE_CHECKING:
    from papertape.engine.portfolio import PortfolioView
    from papertape.engine.snapshot import Snapshot
    from papertape.plugins.llm.sequencer import Turn

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


def _unique_names(specs: list[tuple[str, dict[str, Any], float]]) -> list[str]:
    """Member names: the strategy name, numbered when a strategy appears twice."""
    seen: dict[str, int] = {}
    names = []
    for name, _, _ in specs:
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return names


class _PendingVote:
    """The ensemble's awaitable for one bar; closing it unawaited closes its members' too.

    The engine drops a warm-up bar's awaitable by closing it without running it; the members'
    awaitables inside must then be closed as well (no "never awaited" warnings).
    """

    __slots__ = ("_members", "_vote")

    def __init__(self, vote: Coroutine[Any, Any, Signal | None], members: list[Any]) -> None:
        self._vote = vote
        self._members = members

    def __await__(self) -> Generator[Any, None, Signal | None]:
        return self._vote.__await__()

    def close(self) -> None:
        """Drop the vote and every member's decision without running them."""
        self._vote.close()
        for aw in self._members:
            close = getattr(aw, "close", None)
            if callable(close):
                close()


class EnsembleVoter(Strategy):
    """Weighted vote of several strategies (see the module docstring)."""

    name: ClassVar[str] = "ensemble"
    defaults: ClassVar[dict[str, Any]] = {
        "members": "sma_cross; momentum",
        "threshold": 0.0,
        "allow_short": False,
        "max_member_errors": 3,
        "member_timeout_s": 120.0,
        "weights": "config",
        "train_end": "",
        "train_bars": 0,
    }

    @classmethod
    def unreachable(cls, params: Mapping[str, Any]) -> str:
        """A member that cannot run here (its key is not set) makes the ensemble unable to.

        The vote without it would not be the configured ensemble, so an arena leaves the
        ensemble out and names the member, instead of failing when its members are built.
        """
        from papertape.engine.errors import PluginError
        from papertape.engine.registry import build_catalog, make_plugin_manager

        try:
            specs = parse_members(str(params.get("members", cls.defaults["members"])))
        except ConfigError:
            return ""  # a malformed list is the config check's to report, with its key
        pm, broken = make_plugin_manager((), entry_points=False)
        catalog = build_catalog(pm, broken)
        for name, (strategy, member_params, _) in zip(_unique_names(specs), specs, strict=True):
            try:
                why = catalog.strategy(strategy).unreachable(member_params)
            except PluginError:
                continue  # an unknown member: reported when the members are built
            if why:
                return f"member {name}: {why}"
        return ""

    def validate(self) -> None:
        """Members parse; ``0 <= threshold < 1``; learned weights name one training window."""
        self._specs = parse_members(str(self.p.members))
        if not 0.0 <= self.p.threshold < 1.0:
            raise ConfigError("params.threshold", self.p.threshold, "must be in [0, 1)")
        if not self.p.member_timeout_s >= 0.0:
            raise ConfigError("params.member_timeout_s", self.p.member_timeout_s, "must be >= 0")
        if self.p.weights not in ("config", "learned"):
            raise ConfigError("params.weights", self.p.weights, 'use "config" or "learned"')
        self._train_end: int | None = None
        if self.p.weights == "learned":
            if bool(self.p.train_end) == (self.p.train_bars > 0):
                raise ConfigError(
                    "params.train_end",
                    self.p.train_end,
                    'weights = "learned" needs exactly one of train_end (a date) or train_bars > 0',
                )
            if self.p.train_end:
                from papertape.ml.rl.setup import date_ns

                try:
                    self._train_end = date_ns(str(self.p.train_end))
                except ConfigError:
                    raise ConfigError(
                        "params.train_end", self.p.train_end, "not a date like 2015-12-31"
                    ) from None

        self.members = self._build_members()

    def _build_members(self) -> list[Member]:
        """Every member, built now so a bad member parameter fails when the config loads.

        Raises:
            ConfigError: An unknown member strategy or a bad parameter (named with the member).
        """
        from papertape.engine.errors import PluginError
        from papertape.engine.registry import build_catalog, make_plugin_manager

        pm, broken = make_plugin_manager((), entry_points=False)
        catalog = build_catalog(pm, broken)
        names = _unique_names(self._specs)
        members = []
        for name, (strategy, params, weight) in zip(names, self._specs, strict=True):
            try:
                members.append(Member(name, catalog.strategy(strategy)(**params), weight))
            except ConfigError as exc:
                key = f"params.members.{name}.{exc.key.removeprefix('params.')}"
                raise ConfigError(key, exc.value, exc.reason) from None
            except PluginError as exc:
                raise ConfigError("params.members", strategy, str(exc)) from None
        return members

    def on_start(self, ctx: StrategyContext) -> None:
        """Start every member."""
        self._ctx = ctx
        self._emit: Callable[[Any], None] | None = getattr(ctx, "emit", None)
        # the engine's papertape_decision hook (None when no plugin supplies decisions)
        self._substitute: Callable[..., Any] | None = getattr(ctx, "substitute", None)
        self._memory = TargetMemory(ctx)
        # Drop-out records of a slow vote are emitted in the engine's order of slow decisions
        # (the LLM traders' sequencer), so the journal never depends on who answered first.
        from papertape.plugins.llm.sequencer import EmitSequencer, sequencer_for

        live = bool(getattr(ctx, "live", False))
        self._sequencer = EmitSequencer() if live else sequencer_for(self._emit)
        self.failures = 0
        self.abstentions = 0
        self.dropped = {"failed": 0, "timeout": 0, "abstained": 0}
        self.learner: LearnedWeights | None = None
        if self.p.weights == "learned":
            priors = {m.name: m.weight for m in self.members}
            self.learner = LearnedWeights(priors, self._train_end, int(self.p.train_bars))
        for m in self.members:
            sub = StrategyContext(**vars(ctx))
            sub.id = f"{ctx.id}/{m.name}"
            m.strategy.on_start(sub)

    # ------------------------------------------------------------------------------------
    # asking the members
    # ------------------------------------------------------------------------------------

    def _drop(
        self, m: Member, snap: Snapshot, reason: str, detail: str, awaited: bool = True
    ) -> None:
        """Journal a member leaving this vote; failures and timeouts count as errors."""
        self.dropped[reason] += 1
        if reason != "abstained":
            m.errors += 1
            self.failures += 1
            if m.errors >= self.p.max_member_errors:
                m.out = True
                detail += " (out for the rest of the run)"
        if self._emit is not None:
            event = MemberDropped(
                snap.time, self._ctx.id, m.name, snap.symbol, reason, detail, m.errors, awaited
            )
            self._emit(event)

    def _ask(self, m: Member, snap: Snapshot, portfolio: PortfolioView) -> Any:
        """The member's decision: supplied through the hook, else its own ``on_bar``."""
        if self._substitute is not None:
            supplied = self._substitute(strategy_id=f"{self._ctx.id}/{m.name}", snapshot=snap)
            if supplied is not None:
                return supplied
        return m.strategy.on_bar(snap, portfolio)

    @staticmethod
    def _take(m: Member, sym: str, decision: Any) -> None:
        """Update the member's stance from what it decided (raises on a non-signal)."""
        for sig in as_signals(decision) if decision is not None else ():
            if (sig.symbol or sym) == sym:
                conf = 1.0 if sig.size is None else min(max(sig.size, 0.0), 1.0)
                m.stance[sym] = (sig.target, conf)

    def on_bar(self, snap: Snapshot, portfolio: PortfolioView) -> Any:
        """Ask every member, then vote (an awaitable when a member's decision is one)."""
        sym = snap.symbol
        left: set[str] = set()
        waiting: list[tuple[Member, Awaitable[Any]]] = []
        for m in self.members:
            if m.out:
                continue
            try:
                decision = self._ask(m, snap, portfolio)
                if decision is not None and inspect.isawaitable(decision):
                    waiting.append((m, decision))
                    continue
                self._take(m, sym, decision)
            except CONTAINED as exc:
                self._drop(m, snap, "failed", f"{type(exc).__name__}: {exc}", awaited=False)
                left.add(m.name)
        if waiting:
            turn = self._sequencer.turn()  # after the members' own turns, before later slots'
            vote = self._gather(snap, waiting, left, turn)
            return _PendingVote(vote, [aw for _, aw in waiting])
        return self._conclude(snap, left)

    async def _bounded(self, awaitable: Awaitable[Any]) -> Any:
        limit = float(self.p.member_timeout_s)
        if limit > 0.0:
            return await asyncio.wait_for(awaitable, limit)
        return await awaitable

    async def _gather(
        self,
        snap: Snapshot,
        waiting: list[tuple[Member, Awaitable[Any]]],
        left: set[str],
        turn: Turn,
    ) -> Signal | None:
        """Await the slow members together, then (in turn) journal drop-outs and vote."""
        turn.started = True
        try:
            results = await asyncio.gather(
                *(self._bounded(aw) for _, aw in waiting), return_exceptions=True
            )
            await turn.wait()
            return self._settle(snap, waiting, results, left)
        finally:
            turn.finish()

    def _settle(
        self,
        snap: Snapshot,
        waiting: list[tuple[Member, Awaitable[Any]]],
        results: list[Any],
        left: set[str],
    ) -> Signal | None:
        """Take the slow members' answers (or drop them out), then vote."""
        for (m, _), res in zip(waiting, results, strict=True):
            if isinstance(res, TimeoutError):
                limit = f"{float(self.p.member_timeout_s):g} s"
                self._drop(m, snap, "timeout", f"no decision within {limit} (member_timeout_s)")
            elif isinstance(res, BaseException):
                if not isinstance(res, CONTAINED):
                    raise res  # a cancellation (Ctrl-C) or KeyboardInterrupt is the run's
                self._drop(m, snap, "failed", f"{type(res).__name__}: {res}")
            elif res is None or (isinstance(res, list | tuple) and not res):
                self._drop(m, snap, "abstained", "answered no signal (HOLD)")
            else:
                try:
                    self._take(m, snap.symbol, res)
                    continue
                except CONTAINED as exc:
                    self._drop(m, snap, "failed", f"{type(exc).__name__}: {exc}")
            left.add(m.name)
        return self._conclude(snap, left)

    # ------------------------------------------------------------------------------------
    # the vote
    # ------------------------------------------------------------------------------------

    def _conclude(self, snap: Snapshot, left: set[str]) -> Signal | None:
        """Train (learned weights, training window) or vote; ``left``: out of this vote."""
        sym = snap.symbol
        learner = self.learner
        if learner is not None and learner.weights is None:
            if learner.in_training(snap.time, snap.bars()):
                votes = {
                    m.name: _VOTE[m.stance[sym][0]] * m.stance[sym][1]
                    for m in self.members
                    if sym in m.stance and m.name not in left and not m.out
                }
                learner.observe(sym, snap.price, votes)
                return None
            learner.freeze()
        weights = learner.weights if learner is not None and learner.weights else None
        total = net = 0.0
        voters = []
        for m in self.members:
            if m.out or m.name in left:
                continue
            stance = m.stance.get(sym)
            if stance is None:
                self.abstentions += 1
                continue
            target, conf = stance
            w = m.weight if weights is None else weights[m.name]
            total += w
            net += w * _VOTE[target] * conf
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
        return self._memory.change(
            sym, target, f"vote {score:+.2f} ({', '.join(voters)})", at=snap.time
        )

    def on_stop(self) -> None:
        """Stop every member (a failure there is journaled by the engine as ours)."""
        for m in self.members:
            m.strategy.on_stop()

    def stats(self) -> dict[str, Any]:
        """Member failures, drop-outs by reason, abstentions, who is out, learned weights."""
        out: dict[str, Any] = {
            "member_failures": self.failures,
            "dropped": dict(self.dropped),
            "abstentions": self.abstentions,
            "members_out": [m.name for m in self.members if m.out],
        }
        if self.learner is not None:
            out["learned_weights"] = self.learner.weights
            out["hit_rates"] = {m.name: self.learner.hit_rate(m.name) for m in self.members}
            out["weights_fallback"] = self.learner.fallback
        return out
