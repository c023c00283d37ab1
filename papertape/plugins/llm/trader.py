"""The LLM trader: a strategy plugin whose decisions come from a language model.

Every ``every`` bars (and on events: a bracket closed the position, the annotated regime
changed) the trader builds a compact market context from the snapshot, asks its provider for a
:class:`~plugins.llm.schema.TradeDecision` under the decision's JSON schema, validates the
answer again and turns it into an ordinary :class:`~engine.execution.orders.Signal`, which goes
through the slot's sizer and shields like any other strategy's. The model call is a coroutine,
so the engine runs the calls of different traders concurrently.

Per decision it emits an :class:`~engine.events.LlmDecision` (prompt hash, model, parameters,
raw response, parsed decision, reason code, latency, tokens, cost). Anything but a valid answer
(malformed JSON, a schema violation, a refusal, a timeout, a provider error, a spent budget)
becomes an explicit HOLD with its reason code, and the trader keeps running.

Exact replay: each call is looked up in (and stored to) a content-addressed cache before the
model is asked; with ``cache = "replay"`` the model is never called, and a cached run journals
the same records byte for byte.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from papertape.engine.errors import ConfigError
from papertape.engine.events import LlmDecision
from papertape.engine.execution.orders import OrderRole, Signal, Target
from papertape.engine.strategy import Strategy, StrategyContext
from papertape.plugins.llm.answering import Answer, Answering, Consulted
from papertape.plugins.llm.appetite import persona_tilt
from papertape.plugins.llm.budget import Budget, BudgetTracker, RateLimiter
from papertape.plugins.llm.cache import ResponseCache
from papertape.plugins.llm.calls import (
    judge,
)
from papertape.plugins.llm.chain import (
    FALLBACK_CODES,
    ModelLink,
    build_chain,
    link_specs,
    resolve_decode,
    unreachable_chain,
)
from papertape.plugins.llm.checks import check_params, unread_params
from papertape.plugins.llm.fewshot import (
    allowed_actions,
    build_completion_prompt,
    restrict_actions,
)
from papertape.plugins.llm.memory import MIN_BARS, MemoryIndex, Situation, market_features
from papertape.plugins.llm.outage import FailureStreak
from papertape.plugins.llm.outcomes import TradeLinker
from papertape.plugins.llm.prompt import (
    DAY_NS,
    ExitPlan,
    Prompt,
    PromptSettings,
    build_prompt,
)
from papertape.plugins.llm.providers import LlmRequest, Provider
from papertape.plugins.llm.schema import (
    Action,
    ReasonCode,
    TradeDecision,
    decision_schema,
)
from papertape.plugins.llm.sequencer import EmitSequencer, Turn, sequencer_for
from papertape.plugins.llm.stats import TraderStats

if TYPE_CHECKING:
    from papertape.engine.events import Event
    from papertape.engine.execution.orders import Fill
    from papertape.engine.portfolio import PortfolioView
    from papertape.engine.snapshot import Snapshot

__all__ = ["CACHE_ENV", "Consulted", "LlmTrader"]

CACHE_ENV = "PAPERTAPE_LLM_CACHE"
# Arena blind tapes start in year 2200 (papertape.arena.blind.BLIND_YEAR): no memory there.
BLIND_START = 7_258_118_400 * 10**9
SCHEMA = decision_schema()


class LlmTrader(Answering, Strategy):
    """An LLM trades from a compact market context every N bars (local, Ollama or Anthropic).

    Parameters (all settable with ``--param`` or in a config's ``params``):
        provider, model: backend (``local``/``ollama``/``anthropic``) and model ("" = default).
        every, warmup, decide_on: decide every N bars after ``warmup`` bars, and also on
            events (comma list of ``exit`` = a stop/target/liquidation closed the position,
            ``regime`` = the annotated regime changed).
        persona, system_prompt, candles, reflect, allow_short: what the prompt says.
        temperature, seed, max_output_tokens, timeout: sampling and the per-call limit.
        budget_calls, budget_tokens, budget_cost, calls_per_minute: limits (0 = none).
        max_failed_calls: give up after this many failed model calls in a row (a strategy
            error; 0 = hold through any outage; :mod:`plugins.llm.outage`).
        cache, cache_dir: ``readwrite``/``replay``/``retry``/``off`` and the cache folder ("" =
            ``$PAPERTAPE_LLM_CACHE`` or ``journals/llm-cache``).
        host, base_url, max_retries, n_ctx, n_threads: backend options.
        api_key_env, structured, price_in, price_out: OpenAI-compatible options (the name of
            the key's environment variable, ``auto``/``json_schema``/``json_object``, USD
            per million tokens overriding the price table).
        models: a fallback chain (``["openai:gpt-4.1-mini", "local"]`` or tables of provider
            options); asked in turn while a call fails, times out or is refused.
        min_confidence: act only when the decision's confidence is at least this, else
            HOLD with ``low_confidence`` (0 = always act).
        memory, memory_from, memory_horizon: show the ``memory`` past situations most like
            now from the runs in ``memory_from`` (run folders or folders of them), each with
            its outcome over at most ``memory_horizon`` bars (0 = no memory;
            :mod:`plugins.llm.memory`).
        decode: how a local model decides: ``chat`` (chat prompt, JSON grammar), ``fewshot``
            (few-shot completion, grammar), ``calibrated`` (few-shot, action scored and
            calibrated); ``auto`` = ``calibrated`` for the packaged base model, else ``chat``.
    """

    name: ClassVar[str] = "llm_trader"
    defaults: ClassVar[dict[str, Any]] = {
        "provider": "local",
        "model": "",
        "every": 20,
        "warmup": 50,
        "decide_on": "exit,regime",
        "persona": "moderate",
        "system_prompt": "",
        "candles": 20,
        "reflect": 5,
        "allow_short": False,
        "temperature": 0.0,
        "seed": 0,
        "max_output_tokens": 256,
        "timeout": 60.0,
        "budget_calls": 0,
        "budget_tokens": 0,
        "budget_cost": 0.0,
        "calls_per_minute": 0,
        "max_failed_calls": 5,
        "cache": "readwrite",
        "cache_dir": "",
        "host": "",
        "base_url": "",
        "max_retries": 2,
        "n_ctx": 4096,
        "n_threads": 0,
        "journal_raw_chars": 8192,  # the raw answer kept in the journal (validated whole)
        "decode": "auto",
        "api_key_env": "OPENAI_API_KEY",
        "structured": "auto",
        "price_in": -1.0,
        "price_out": -1.0,
        "models": (),
        "min_confidence": 0.0,
        "memory": 0,
        "memory_from": (),
        "memory_horizon": 20,
    }

    @classmethod
    def unreachable(cls, params: Mapping[str, Any]) -> str:
        """Why no model of this trader can be called here: its key is not set ("" = it can).

        A fallback chain (``models``) can run while one of its models can: the chain falls
        back past the others.
        """
        return unreachable_chain({**cls.defaults, **params}, cls.defaults)

    def validate(self) -> None:
        """Check names, ranges and that the chosen backend can run here."""
        check_params(self.p, self.defaults, self._events())

    def _decoder(self) -> str:
        """The resolved decoder: ``auto`` picks ``calibrated`` for the packaged base model."""
        return resolve_decode(vars(self.p))

    def _events(self) -> list[str]:
        return [e.strip() for e in str(self.p.decide_on).split(",") if e.strip()]

    # ---------------------------------------------------------------------------------------
    # lifecycle
    # ---------------------------------------------------------------------------------------

    def on_start(self, ctx: StrategyContext) -> None:
        """Create the provider (nothing is loaded or connected yet), cache, budget and memory."""
        p = self.p
        self.id = str(ctx.id)
        self._emit: Callable[[Event], None] | None = getattr(ctx, "emit", None)
        # Replay: one order for every trader of the engine, so a cached replay journals what a
        # live-model run did, in the same order. Live: each trader orders only its own records,
        # so a fast trader never waits behind a slow one (issue 9 §2).
        live = bool(getattr(ctx, "live", False))
        self._sequencer = EmitSequencer() if live else sequencer_for(self._emit)
        self._settings = PromptSettings(
            p.persona,
            p.system_prompt,
            p.candles,
            p.reflect,
            p.allow_short,
            int(getattr(ctx, "interval_ns", 0) or DAY_NS),
        )
        self.chain: list[ModelLink] = build_chain(
            link_specs(vars(p), p.models, self.defaults),
            timeout=p.timeout,
            max_retries=p.max_retries,
            n_ctx=p.n_ctx,
            n_threads=p.n_threads,
        )
        self.provider: Provider = self.chain[0].provider
        self.cache = None if p.cache == "off" else ResponseCache(self._cache_dir())
        self.budget = BudgetTracker(Budget(p.budget_calls, p.budget_tokens, p.budget_cost))
        self.limiter = RateLimiter(p.calls_per_minute)
        self.linker = TradeLinker(self.id)
        self.counters = TraderStats(self.provider.name, self.provider.model)
        self.records: list[LlmDecision] = []
        self._plans: dict[str, ExitPlan] = {}
        self._due_now: set[str] = set()
        self._regime: dict[str, Any] = {}
        self._view: PortfolioView | None = None
        self._n = 0
        self._failures = FailureStreak(self.id, p.max_failed_calls)
        # the run's warm-up: bars before it feed the regime memory, never a model call
        self._trade_from: int | None = getattr(ctx, "trade_from", None)
        self._on_exit = "exit" in self._events()
        self._on_regime = "regime" in self._events()
        self.memory: MemoryIndex | None = None
        if p.memory > 0:  # built once here; each decision only queries it
            self.memory = MemoryIndex(p.memory_from, p.memory_horizon)
            if not len(self.memory):  # a wrong path must not pass for "memory did not help"
                why = "; ".join(f"{k}: {v}" for k, v in self.memory.skipped.items())
                raise ConfigError(
                    "params.memory_from",
                    list(p.memory_from),
                    f"holds no past decision to recall ({why or 'no run folder found'})",
                )

    def _cache_dir(self) -> Path:
        if self.p.cache_dir:
            return Path(self.p.cache_dir).expanduser()
        return Path(os.environ.get(CACHE_ENV) or Path("journals") / "llm-cache")

    def on_bar(self, snap: Snapshot, portfolio: PortfolioView) -> Any:
        """Return a decision coroutine on decision bars, None otherwise (cheap)."""
        self._view = portfolio
        sym = snap.symbol
        due = False
        if self._on_regime and snap.annotations:
            regime = snap.annotations.get("regime")
            if sym in self._regime and regime != self._regime[sym]:
                due = True
            self._regime[sym] = regime
        if self._trade_from is not None and snap.time < self._trade_from:
            return None  # the engine would drop the decision: no call, no decision id spent
        bars = snap.bars()
        if bars < self.p.warmup:
            return None
        if sym in self._due_now:
            self._due_now.discard(sym)
            due = True
        if not due and (bars - self.p.warmup) % self.p.every:
            return None
        self._n += 1
        return self._decide(snap, portfolio, f"{self.id}#{self._n}", self._sequencer.turn())

    def on_fill(self, fill: Fill) -> None:
        """Link the fill to its decision; emit outcomes of closed trades; plan exits."""
        view = self._view
        if view is None:
            return
        events, after = self.linker.follow(fill, view)
        for event in events:
            self._publish(event)
        if after == 0.0:
            self._plans.pop(fill.symbol, None)
            if self._on_exit and fill.role is not OrderRole.ENTRY:
                self._due_now.add(fill.symbol)  # a stop/target/liquidation: think again

    def stats(self) -> dict[str, Any]:
        """LLM usage of this run (shown per trader by ``--json``)."""
        counters: TraderStats | None = getattr(self, "counters", None)
        if counters is None:
            return {}
        out = counters.as_dict()
        out["budget"] = {
            "calls": self.budget.calls,
            "tokens": self.budget.tokens,
            "cost": round(self.budget.cost, 6),
            "max_calls": self.p.budget_calls,
            "max_tokens": self.p.budget_tokens,
            "max_cost": self.p.budget_cost,
        }
        memory: MemoryIndex | None = getattr(self, "memory", None)
        if memory is not None:
            out["memory"] = {"situations": len(memory), "skipped": len(memory.skipped)}
        return out

    # ---------------------------------------------------------------------------------------
    # one decision
    # ---------------------------------------------------------------------------------------

    async def _decide(
        self,
        snap: Snapshot,
        portfolio: PortfolioView,
        decision_id: str,
        turn: Turn,
    ) -> Signal | None:
        turn.started = True
        t0 = time.perf_counter()
        try:
            got = await self._consult(snap, portfolio, decision_id)
            code, detail, decision = got.code, got.detail, got.decision
            if decision is not None and code is ReasonCode.OK:
                code, detail = self._confident(decision, detail)
            signal = None
            acted = decision is not None and code in (ReasonCode.OK, ReasonCode.RULE_BASED)
            if decision is not None and acted:
                signal = self._signal(decision, snap, portfolio, decision_id)
            action = decision.action.value if acted and decision else Action.HOLD.value
            judged = replace(got, code=code, detail=detail)  # after the confidence check
            record = judged.journal_record(
                snap, self.id, decision_id, action, self.p.journal_raw_chars, got.prompt.memory
            )
            self.counters.record(code, action)
            await turn.wait()
            for note in got.notes:
                self._publish(note)
            self._publish(record)
            self.records.append(record)
            self._failures.record(code, detail, got.link)
            return signal
        finally:
            turn.finish()
            self.counters.decision_ms.append((time.perf_counter() - t0) * 1e3)

    async def _consult(
        self, snap: Snapshot, portfolio: PortfolioView, decision_id: str
    ) -> Consulted:
        """Ask the chain in turn until a model answers (a fallback skips provider failures)."""
        failed: list[str] = []
        for link in self.chain:
            prompt, request = self._request(link, snap, portfolio)
            answer = await self._answer(request, link)
            code, detail, decision = self._judge(answer)
            if code not in FALLBACK_CODES or link is self.chain[-1]:
                break
            failed.append(f"{link.label} {code.value} ({detail[:80]})")
        if failed:
            detail = f"answered by {link.label} after: {'; '.join(failed)}. {detail}".strip()
        unread = unread_params(self.p, link.decode)
        if unread:  # a chain's model that ignores them: never silently
            detail = f"{detail} ({', '.join(unread)} not read by the {link.decode} decoder)"
            detail = detail.strip()
        return Consulted(link, prompt, request, answer, code, detail, decision)

    def _request(
        self, link: ModelLink, snap: Snapshot, portfolio: PortfolioView
    ) -> tuple[Prompt, LlmRequest]:
        """The prompt and request for one model of the chain (few-shot or chat prompt)."""
        schema = SCHEMA
        memory = self._recall(snap, portfolio)
        if link.completion:
            prompt = build_completion_prompt(snap, portfolio, self._settings, memory)
            actions = allowed_actions(portfolio.qty(snap.symbol), self.p.allow_short)
            schema = restrict_actions(SCHEMA, actions)
        else:
            prompt = self._chat_prompt(snap, portfolio, memory)
        tilt = persona_tilt(self.p.persona) if link.decode == "calibrated" else ()
        return prompt, self._sampled(prompt.system, prompt.user, schema, tilt)

    def _chat_prompt(
        self, snap: Snapshot, portfolio: PortfolioView, memory: list[Situation]
    ) -> Prompt:
        """The chat prompt of this moment: market context, open plans, outcomes, memory."""
        return build_prompt(
            snap,
            portfolio,
            self._settings,
            plans=self._plans,
            opened_by=self.linker.opened_by(),
            outcomes=self.linker.outcomes,
            memory=memory,
        )

    def _sampled(
        self,
        system: str,
        user: str,
        schema: Mapping[str, Any] = SCHEMA,
        tilt: tuple[tuple[str, float], ...] = (),
    ) -> LlmRequest:
        """A decision request under this trader's sampling settings and token limit.

        ``tilt``: the persona's weights on the calibrated decoder's actions (appetite.py).
        """
        return LlmRequest(
            system,
            user,
            schema,
            "trade_decision",
            self.p.temperature,
            self.p.seed,
            self.p.max_output_tokens,
            tilt,
        )

    def _recall(self, snap: Snapshot, portfolio: PortfolioView) -> list[Situation]:
        """The past situations most like this one whose outcome was known by now."""
        if self.memory is None or snap.time >= BLIND_START:
            return []  # a blind tape's shifted dates cannot say what was known when
        features = market_features(snap.window("close", MIN_BARS))
        if features is None:
            return []
        held = portfolio.qty(snap.symbol)
        position = (held > 0.0) - (held < 0.0)
        regime = snap.annotations.get("regime")
        label = None if regime is None else str(regime)
        return self.memory.recall(self.p.memory, snap.time, features, position, label)

    def _confident(self, decision: TradeDecision, detail: str) -> tuple[ReasonCode, str]:
        """``low_confidence`` when an action's stated confidence is under ``min_confidence``."""
        floor = float(self.p.min_confidence)
        if decision.action is Action.HOLD or decision.confidence >= floor:
            return ReasonCode.OK, detail
        why = f"confidence {decision.confidence:g} < min_confidence {floor:g}: not acted on"
        return ReasonCode.LOW_CONFIDENCE, f"{detail} {why}".strip()

    @staticmethod
    def _judge(answer: Answer) -> tuple[ReasonCode, str, TradeDecision | None]:
        return judge(answer.entry, answer.code)

    def _signal(
        self,
        d: TradeDecision,
        snap: Snapshot,
        portfolio: PortfolioView,
        decision_id: str,
    ) -> Signal | None:
        sym = snap.symbol
        reason = f"[{decision_id}] {d.reasoning}"[:240]
        if d.action is Action.HOLD:
            return None
        if d.action is Action.CLOSE or (d.action is Action.SELL and not self.p.allow_short):
            if portfolio.qty(sym) != 0.0:
                self.linker.expect(sym, decision_id, d.reasoning)
            return Signal.flat(reason)
        long = d.action is Action.BUY
        price = snap.price
        sign = 1.0 if long else -1.0
        stop = price * (1.0 - sign * d.stop_loss_pct / 100.0) if d.stop_loss_pct else None
        target = price * (1.0 + sign * d.take_profit_pct / 100.0) if d.take_profit_pct else None
        held = portfolio.qty(sym)
        if (long and held <= 0.0) or (not long and held >= 0.0):  # a new position: new plan
            self._plans[sym] = ExitPlan(decision_id, stop, target)
            self.linker.expect(sym, decision_id, d.reasoning)
        return Signal(
            Target.LONG if long else Target.SHORT,
            stop_loss=stop,
            take_profit=target,
            size=d.size,
            reason=reason,
        )

    def _publish(self, event: Event) -> None:
        if self._emit is not None:
            self._emit(event)
