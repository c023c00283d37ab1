"""Slow (awaitable) ensemble members: they join the vote; timeouts, failures, HOLDs drop out.

The members here are deterministic async strategies (what an LLM trader looks like to the
engine: ``on_bar`` returns a coroutine), plus one run whose members' decisions are served by
the recorded-decision path (a journal's decisions through ``papertape_decision``).
"""

from __future__ import annotations

import asyncio
import warnings
from typing import Any, ClassVar

import pytest

from papertape.engine.events import LlmDecision
from papertape.engine.execution.orders import Signal, Target
from papertape.engine.journal.replay.decisions import RecordedDecisions
from papertape.engine.snapshot import Snapshot
from papertape.engine.strategy import Strategy
from papertape.strategies.ensemble import EnsembleVoter
from tests.conftest import flat_bars, make_engine

CLOSES = [100.0 + i for i in range(10)]


class Slow(Strategy):
    """From its second bar, decides after ``delay`` seconds: long, HOLD (None) or raise."""

    name: ClassVar[str] = "t_slow"
    defaults: ClassVar[dict[str, Any]] = {"delay": 0.0, "mode": "long", "from_bar": 2}

    def on_start(self, ctx: Any) -> None:
        self.n = 0
        self.started = 0

    def on_bar(self, snap: Snapshot, portfolio: Any) -> Any:
        self.n += 1
        if self.n < self.p.from_bar:
            return None
        return self._decide()

    async def _decide(self) -> Signal | None:
        self.started += 1
        await asyncio.sleep(self.p.delay)
        if self.p.mode == "raise":
            raise RuntimeError("model server gone")
        if self.p.mode == "hold":
            return None
        return Signal.long(size=0.5)


class Bear(Strategy):
    """Short from its third bar (synchronous)."""

    name: ClassVar[str] = "t_bear"

    def on_start(self, ctx: Any) -> None:
        self.n = 0

    def on_bar(self, snap: Snapshot, portfolio: Any) -> Signal | None:
        self.n += 1
        return Signal.short() if self.n == 3 else None


class Never(Strategy):
    """A member whose decisions must all be supplied: being asked is a failure."""

    name: ClassVar[str] = "t_never"

    def on_bar(self, snap: Snapshot, portfolio: Any) -> None:
        raise AssertionError("the member itself was asked")


class RecordedLlm(Strategy):
    """Records like an LLM trader: an ``llm_decision`` per decision bar, an awaitable answer."""

    name: ClassVar[str] = "t_llm"
    PLAN: ClassVar[dict[int, str]] = {2: "BUY", 4: "HOLD", 6: "CLOSE"}

    def on_start(self, ctx: Any) -> None:
        self.n, self.id, self.emit = 0, ctx.id, ctx.emit

    def on_bar(self, snap: Snapshot, portfolio: Any) -> Any:
        self.n += 1
        action = self.PLAN.get(self.n)
        return None if action is None else self._decide(snap, action)

    async def _decide(self, snap: Snapshot, action: str) -> Signal | None:
        await asyncio.sleep(0)
        self.emit(
            LlmDecision(
                snap.time, self.id, f"{self.id}#{self.n}", snap.symbol, "test", "scripted", {},
                "h", "k", action, {"action": action}, action, "ok", "", 1.0, 1, 1, 0.0,
            )
        )  # fmt: skip
        if action == "BUY":
            return Signal.long(f"[{self.id}#{self.n}] up")
        if action == "CLOSE":
            return Signal.flat(f"[{self.id}#{self.n}] done")
        return None


@pytest.fixture(autouse=True)
def _catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    table = {c.name: c for c in (Slow, Bear, Never, RecordedLlm)}

    class Catalog:
        def strategy(self, name: str) -> type[Strategy]:
            return table[name]

    import papertape.engine.registry as registry

    monkeypatch.setattr(registry, "build_catalog", lambda pm, broken: Catalog())


def _run(members: str, plugins: tuple[object, ...] = (), **params: Any) -> Any:
    voter = EnsembleVoter(members=members, allow_short=True, **params)
    engine, rec = make_engine(flat_bars(CLOSES), [("ens", voter)], plugins=plugins)
    engine.run_sync()
    targets = [(e.time, Target(e.target)) for e in rec.kinds("signal")]
    return voter, rec, targets


def test_a_slow_member_joins_the_vote() -> None:
    voter, rec, targets = _run("t_slow@3; t_bear@1")
    # bar 2: the slow member alone (long 3 x 0.5); bar 3: 1.5 long vs 1 short -> still long
    assert [t for _, t in targets] == [Target.LONG]
    assert voter.members[0].strategy.started == len(CLOSES) - 1  # awaited on every bar
    assert not rec.kinds("member_dropped")
    _, _, bear_alone = _run("t_bear@1")
    assert [t for _, t in bear_alone] == [Target.SHORT]  # so the slow member's vote counted


def test_a_member_that_times_out_drops_out_of_the_vote_and_is_journaled() -> None:
    voter, rec, targets = _run(
        "t_slow:delay=5@3; t_bear@1", member_timeout_s=0.02, max_member_errors=2
    )
    dropped = rec.kinds("member_dropped")
    assert [(e.member, e.reason) for e in dropped] == [("t_slow", "timeout")] * 2
    assert "0.02 s" in dropped[0].detail and "rest of the run" in dropped[1].detail
    # the slow member never votes; the bear alone decides from bar 3
    assert [t for _, t in targets] == [Target.SHORT]
    assert voter.stats()["members_out"] == ["t_slow"]


def test_a_member_whose_awaitable_raises_is_a_failure() -> None:
    _, rec, targets = _run("t_slow:mode=raise@3; t_bear@1", max_member_errors=99)
    dropped = rec.kinds("member_dropped")
    assert {e.reason for e in dropped} == {"failed"} and len(dropped) == len(CLOSES) - 1
    assert "model server gone" in dropped[0].detail
    assert [e.errors_so_far for e in dropped][:3] == [1, 2, 3]
    assert [t for _, t in targets] == [Target.SHORT]


def test_a_hold_abstains_from_that_vote_only() -> None:
    # the slow member is long once (bar 2, as a one-off plan via from_bar) then HOLDs
    voter, rec, targets = _run("t_slow:mode=hold@3; t_bear@1")
    dropped = rec.kinds("member_dropped")
    assert {(e.member, e.reason) for e in dropped} == {("t_slow", "abstained")}
    assert all(e.errors_so_far == 0 for e in dropped)
    assert voter.stats()["members_out"] == [] and voter.stats()["dropped"]["abstained"] == 9
    assert [t for _, t in targets] == [Target.SHORT]


def test_warm_up_drops_the_members_awaitables_without_warnings() -> None:
    from papertape.engine.pipeline.state import EngineSettings

    voter = EnsembleVoter(members="t_slow@1", allow_short=True)
    series = flat_bars(CLOSES)
    engine, _ = make_engine(series, [("ens", voter)])
    engine.settings = EngineSettings(
        simulator=engine.settings.simulator, trade_from=int(series.time[6])
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "coroutine ... was never awaited" would fail here
        engine.run_sync()
    assert voter.members[0].strategy.started == 4  # only bars 7..10 were awaited


def _recorded_journal() -> list[dict[str, Any]]:
    """A run of an LLM-like trader and a rule, as journal records."""
    engine, rec = make_engine(flat_bars(CLOSES), [("llm", RecordedLlm()), ("rule", Bear())])
    engine.run_sync()
    return [e.record() for e in rec.events]


def test_members_decide_from_a_journal_through_the_recorded_decision_path() -> None:
    records = _recorded_journal()
    assert [r["action"] for r in records if r["kind"] == "llm_decision"] == ["BUY", "HOLD", "CLOSE"]
    plugin = RecordedDecisions(records, swap={"ens/t_never": "llm", "ens/t_never#2": "rule"})
    _, rec, targets = _run("t_never@1; t_never@1", plugins=(plugin,))
    # bar 2: llm long -> LONG; bar 3: rule short, 1 - 1 = 0 -> FLAT; bar 4: llm HOLDs
    # (abstains) -> the rule alone -> SHORT; bar 5: 0 -> FLAT; bar 6: llm flat, -0.5 -> SHORT
    assert [t for _, t in targets] == [
        Target.LONG,
        Target.FLAT,
        Target.SHORT,
        Target.FLAT,
        Target.SHORT,
    ]
    dropped = rec.kinds("member_dropped")
    assert [(e.member, e.reason) for e in dropped] == [("t_never", "abstained")]


class Quick(Strategy):
    """A slow-path trader that answers at once and journals in its turn, as the LLM trader."""

    name: ClassVar[str] = "t_quick"

    def on_start(self, ctx: Any) -> None:
        from papertape.plugins.llm.sequencer import sequencer_for

        self.id, self.emit, self.seq, self.n = ctx.id, ctx.emit, sequencer_for(ctx.emit), 0

    def on_bar(self, snap: Snapshot, portfolio: Any) -> Any:
        self.n += 1
        return self._decide(snap, self.seq.turn()) if self.n == 3 else None

    async def _decide(self, snap: Snapshot, turn: Any) -> None:
        turn.started = True
        try:
            await turn.wait()
            self.emit(
                LlmDecision(
                    snap.time, self.id, "q", snap.symbol, "test", "quick", {}, "h", "k", "",
                    None, "HOLD", "ok", "", 0.0, 0, 0, 0.0,
                )
            )  # fmt: skip
        finally:
            turn.finish()


def test_drop_outs_are_journaled_in_slot_order_whoever_answers_first() -> None:
    voter = EnsembleVoter(members="t_slow:mode=hold,delay=0.05@1")
    engine, rec = make_engine(flat_bars(CLOSES), [("vote", voter), ("quick", Quick())])
    engine.run_sync()
    at_bar_3 = [e for e in rec.events if e.time == flat_bars(CLOSES).time[2]]
    kinds = [(e.kind, e.strategy) for e in at_bar_3 if e.kind in ("member_dropped", "llm_decision")]
    # the quick trader answered 50 ms earlier, but the ensemble's slot comes first
    assert kinds == [("member_dropped", "vote"), ("llm_decision", "quick")]
