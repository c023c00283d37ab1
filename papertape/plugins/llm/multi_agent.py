"""The multi-agent trader: analysts, a bull/bear debate, a trader and a risk manager.

One decision is a small desk meeting, each role one provider call with its own prompt (and,
optionally, its own model), all answering with the same decision schema and validated the
same way as the single trader:

1. ``analysts`` (default ``technical,risk``) each read the market context and give a view;
2. a ``bull`` and a ``bear`` argue for ``rounds`` rounds, each seeing the views and the debate
   so far;
3. the ``trader`` reads everything and decides;
4. the ``risk`` manager reads the trader's decision and may *veto* it (answers HOLD or CLOSE
   to a BUY/SELL) or *shrink* it (a smaller size for the same action).

Every role's call is cached and budgeted and journaled as its own ``llm_decision`` event with
decision id ``<slot>#<n>:<role>`` right before the final one (``<slot>#<n>``), so the journal
shows the debate and a replay needs no model. ``role_models`` maps a role to a model
(``{bull = "openai:gpt-4.1-mini"}``); roles without one use the trader's first model. Roles
always get the chat prompt (a base model's few-shot decoder has no room for a debate).

Memory (``memory = k``): the recalled past situations are part of the market context, so every
role reads them — the analysts and the debate argue from the same evidence the trader weighs,
and the risk manager sees what similar set-ups earned. They are recalled once per meeting by
:meth:`LlmTrader._recall` (only outcomes known by the decision bar), sit in every role's
prompt and so in every cache key, and their ids are journaled once, with the desk's decision
``<slot>#<n>`` (the role events leave ``memory`` empty, so ``journal stats`` counts a meeting
as one decision).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from papertape.engine.errors import ConfigError
from papertape.engine.events import LlmDecision
from papertape.plugins.llm.calls import missing_credential
from papertape.plugins.llm.chain import ModelLink, build_chain, link_specs
from papertape.plugins.llm.prompt import Prompt
from papertape.plugins.llm.schema import Action, ReasonCode, TradeDecision
from papertape.plugins.llm.trader import Consulted, LlmTrader

if TYPE_CHECKING:
    from papertape.engine.portfolio import PortfolioView
    from papertape.engine.snapshot import Snapshot
    from papertape.engine.strategy import StrategyContext

__all__ = ["ROLE_PROMPTS", "MultiAgentTrader"]

ROLE_PROMPTS: dict[str, str] = {
    "technical": "You are the technical analyst of a trading desk. Judge trend, momentum and "
    "volatility from the indicators and give your view as a decision.",
    "regime": "You are the market-regime analyst of a trading desk. Judge whether the market is "
    "calm, in transition or volatile and what that means for exposure.",
    "risk": "You are the portfolio and risk analyst of a trading desk. Judge the open position, "
    "its exit plan and how much of the equity should be at risk.",
    "bull": "You are the bull of a trading desk debate. Make the strongest honest case for "
    "buying or staying long, answering the bear's points.",
    "bear": "You are the bear of a trading desk debate. Make the strongest honest case for "
    "staying out or closing, answering the bull's points.",
    "trader": "You are the head trader. Weigh the analysts and the debate and decide.",
    "risk_manager": "You are the risk manager. The trader's decision is below. Approve it by "
    "repeating it, shrink its size, or veto it by answering HOLD (or CLOSE).",
}
OUTPUT = (
    "\n\nReply with one JSON object: reasoning, action (BUY, SELL, HOLD or CLOSE), size "
    "(fraction of equity, 0 to 1), confidence (0 to 1), stop_loss_pct, take_profit_pct."
)


def _note(role: str, d: TradeDecision | None, code: ReasonCode) -> str:
    if d is None:
        return f"{role}: (no valid answer: {code.value})"
    return f"{role}: {d.action.value} size {d.size:g} confidence {d.confidence:g} - {d.reasoning}"


class MultiAgentTrader(LlmTrader):
    """Analysts, a bull/bear debate, a trader and a risk manager decide together.

    Parameters, besides the LLM trader's:
        analysts: Comma list of analyst roles (``technical``, ``regime``, ``risk``).
        rounds: Bull/bear debate rounds (0 = no debate).
        role_models: Table role -> model (``"provider:model"`` or a table of options).

    ``memory``/``memory_from``/``memory_horizon`` work as for the LLM trader; every role sees
    the recalled situations (see the module docs).
    """

    name: ClassVar[str] = "llm_multi_agent"
    defaults: ClassVar[dict[str, Any]] = {
        **LlmTrader.defaults,
        "decode": "chat",
        "analysts": "technical,risk",
        "rounds": 1,
        "role_models": {},
    }

    @classmethod
    def unreachable(cls, params: Mapping[str, Any]) -> str:
        """Why a role of the desk cannot call its model here ("" when every role can).

        A role without a ``role_models`` entry asks the trader's first model (no fallback), so
        the model of every role the desk asks (its analysts, the debate when ``rounds`` > 0,
        the trader and the risk manager) must be reachable.
        """
        spec = {**cls.defaults, **params}
        role_models = spec.get("role_models") or {}
        first = link_specs(spec, spec.get("models") or (), cls.defaults)[0]
        analysts = [a.strip() for a in str(spec["analysts"]).split(",") if a.strip()]
        debate = ["bull", "bear"] if int(spec["rounds"]) > 0 else []
        why: list[str] = []
        for role in [*analysts, *debate, "trader", "risk_manager"]:
            entry = role_models.get(role) if isinstance(role_models, Mapping) else None
            link = first if entry is None else link_specs(spec, [entry], cls.defaults)[0]
            provider = str(link["provider"])
            missing = missing_credential(provider, str(link.get("api_key_env") or ""))
            if missing and f"{provider}: {missing}" not in why:
                why.append(f"{provider}: {missing}")
        return "; ".join(why)

    def _analysts(self) -> list[str]:
        return [a.strip() for a in str(self.p.analysts).split(",") if a.strip()]

    def validate(self) -> None:
        """The LLM trader's checks plus known roles and a sane debate length."""
        super().validate()
        p = self.p
        bad = [a for a in self._analysts() if a not in ("technical", "regime", "risk")]
        if bad:
            raise ConfigError("params.analysts", p.analysts, "roles are technical, regime, risk")
        if not 0 <= p.rounds <= 5:
            raise ConfigError("params.rounds", p.rounds, "must be in 0..5")
        if not isinstance(p.role_models, Mapping) or set(p.role_models) - set(ROLE_PROMPTS):
            raise ConfigError("params.role_models", p.role_models, f"roles: {list(ROLE_PROMPTS)}")

    def on_start(self, ctx: StrategyContext) -> None:
        """The LLM trader's set-up plus one model per role."""
        super().on_start(ctx)
        p = self.p
        self.roles: dict[str, ModelLink] = {}
        for role in ROLE_PROMPTS:
            entry = p.role_models.get(role)
            if entry is None:
                self.roles[role] = self.chain[0]
                continue
            spec = link_specs(vars(p), [entry], self.defaults)[0]
            spec["decode"] = "chat"
            (link,) = build_chain(
                [spec],
                timeout=p.timeout,
                max_retries=p.max_retries,
                n_ctx=p.n_ctx,
                n_threads=p.n_threads,
            )
            self.roles[role] = link

    async def _ask(
        self, role: str, context: Prompt, notes: list[str], snap: Snapshot, decision_id: str
    ) -> tuple[Consulted, LlmDecision]:
        link = self.roles[role]
        user = context.user
        if notes:
            user += "\n\nThe desk so far:\n" + "\n".join(f"- {n}" for n in notes)
        system = ROLE_PROMPTS[role] + OUTPUT
        request = self._sampled(system, user)
        answer = await self._answer(request, link)
        code, detail, decision = self._judge(answer)
        # The memory ids go with the desk's decision (the trader's call) only, so `journal
        # stats` counts a meeting once; every role's prompt shows the same memory.
        prompt = Prompt(system, user, context.data_time, context.memory)
        got = Consulted(link, prompt, request, answer, code, detail, decision)
        action = decision.action.value if decision is not None else Action.HOLD.value
        return got, got.journal_record(
            snap, self.id, f"{decision_id}:{role}", action, self.p.journal_raw_chars
        )

    async def _consult(
        self, snap: Snapshot, portfolio: PortfolioView, decision_id: str
    ) -> Consulted:
        context = self._chat_prompt(snap, portfolio, self._recall(snap, portfolio))
        notes: list[str] = []
        events: list[LlmDecision] = []
        script = [*self._analysts()]
        for _ in range(self.p.rounds):
            script += ["bull", "bear"]
        for role in script:
            got, event = await self._ask(role, context, notes, snap, decision_id)
            notes.append(_note(role, got.decision, got.code))
            events.append(event)
        final, _ = await self._ask("trader", context, notes, snap, decision_id)  # the final event
        if final.decision is None or final.decision.action not in (Action.BUY, Action.SELL):
            return _with(final, final.decision, final.detail, events)
        verdict, event = await self._ask(
            "risk_manager",
            context,
            [_note("trader", final.decision, final.code)],
            snap,
            decision_id,
        )
        events.append(event)
        d, why = final.decision, final.detail
        r = verdict.decision
        if r is not None and r.action in (Action.HOLD, Action.CLOSE):
            why = f"vetoed by the risk manager: {r.reasoning}"[:240]
            d = d.model_copy(update={"action": Action.HOLD, "size": 0.0})
        elif r is not None and r.action is d.action and 0.0 < r.size < d.size:
            why = f"size {d.size:g} shrunk to {r.size:g} by the risk manager: {r.reasoning}"[:240]
            d = d.model_copy(update={"size": r.size})
        return _with(final, d, why, events)


def _with(
    got: Consulted, decision: TradeDecision | None, detail: str, notes: list[LlmDecision]
) -> Consulted:
    # the role events are journaled before the final one; the final is the trader's call
    return Consulted(
        got.link, got.prompt, got.request, got.answer, got.code, detail, decision, tuple(notes)
    )
