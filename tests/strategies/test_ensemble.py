"""The ensemble voter: weighted votes with confidence; a failing member drops out, journaled."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from papertape.engine.errors import ConfigError
from papertape.engine.execution.orders import Signal, Target
from papertape.engine.snapshot import Snapshot
from papertape.engine.strategy import Strategy
from papertape.strategies import ensemble as ensemble_module
from papertape.strategies.ensemble import EnsembleVoter, parse_members
from tests.conftest import flat_bars, make_engine

CLOSES = [100.0 + i for i in range(12)]


class Bull(Strategy):
    """Long from its second bar, with a confidence hint."""

    name: ClassVar[str] = "t_bull"
    defaults: ClassVar[dict[str, Any]] = {"conf": 1.0, "fail_from": -1}

    def on_start(self, ctx: Any) -> None:
        self.n = 0

    def on_bar(self, snap: Snapshot, portfolio: Any) -> Signal | None:
        self.n += 1
        if 0 <= self.p.fail_from < self.n:
            raise RuntimeError("member broke")
        return Signal.long(size=self.p.conf) if self.n == 2 else None


class Bear(Strategy):
    """Short from its third bar."""

    name: ClassVar[str] = "t_bear"

    def on_start(self, ctx: Any) -> None:
        self.n = 0

    def on_bar(self, snap: Snapshot, portfolio: Any) -> Signal | None:
        self.n += 1
        return Signal.short() if self.n == 3 else None


@pytest.fixture(autouse=True)
def _catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    """Members resolved from a catalog that knows the two test strategies."""
    table = {"t_bull": Bull, "t_bear": Bear}

    class Catalog:
        def strategy(self, name: str) -> type[Strategy]:
            return table[name]

    import papertape.engine.registry as registry

    monkeypatch.setattr(registry, "build_catalog", lambda pm, broken: Catalog())
    assert ensemble_module is not None


def _targets(members: str, **params: Any) -> tuple[list[tuple[int, Target]], Any]:
    voter = EnsembleVoter(members=members, **params)
    engine, rec = make_engine(flat_bars(CLOSES), voter)
    engine.run_sync()
    sigs = [(e.time, Target(e.target)) for e in rec.events if e.kind == "signal"]
    return sigs, rec


def test_the_heavier_side_wins_and_confidence_scales_a_vote() -> None:
    heavy_bull, _ = _targets("t_bull@3; t_bear@1", allow_short=True)
    # bar 2: bull alone -> long; bar 3: 3 long vs 1 short -> still long, no new signal
    assert [t for _, t in heavy_bull] == [Target.LONG]
    weak_bull, _ = _targets("t_bull:conf=0.2@3; t_bear@1", allow_short=True)
    # 3*0.2 = 0.6 long vs 1 short: the bear wins from bar 3
    assert [t for _, t in weak_bull] == [Target.LONG, Target.SHORT]


def test_a_threshold_keeps_a_split_vote_flat() -> None:
    sigs, _ = _targets("t_bull@1; t_bear@1", allow_short=True, threshold=0.1)
    assert [t for _, t in sigs] == [Target.LONG, Target.FLAT]


def test_a_failing_member_drops_out_and_is_journaled() -> None:
    sigs, rec = _targets("t_bull:fail_from=1@5; t_bear@1", allow_short=True, max_member_errors=2)
    dropped = rec.kinds("member_dropped")
    assert [(e.strategy, e.member, e.reason) for e in dropped] == [("s", "t_bull", "failed")] * 2
    assert [e.errors_so_far for e in dropped] == [1, 2]
    assert "member broke" in dropped[0].detail and "rest of the run" in dropped[-1].detail
    assert not rec.kinds("strategy_failed")  # the ensemble slot itself did not fail
    # bull fails before it ever votes; the bear alone decides from bar 3
    assert [t for _, t in sigs] == [Target.SHORT]
    assert not [e for e in rec.events if e.kind == "strategy_disabled"]


def test_members_parse_and_bad_specs_are_refused() -> None:
    assert parse_members("a:x=1,y=0.5,z=true@2; b") == [
        ("a", {"x": 1, "y": 0.5, "z": True}, 2.0),
        ("b", {}, 1.0),
    ]
    for bad in ("", "a@-1", "a:x@1"):
        with pytest.raises(ConfigError, match="members"):
            parse_members(bad)


def test_a_bad_member_is_refused_when_the_config_loads_naming_the_member(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ConfigError, match=r"params\.members\.t_bull\.conf"):
        EnsembleVoter(members="t_bear; t_bull:conf=high")
    monkeypatch.undo()  # the real catalog
    with pytest.raises(ConfigError, match="unknown strategy 'no_such_strategy'"):
        EnsembleVoter(members="sma_cross; no_such_strategy")
    with pytest.raises(ConfigError, match=r"params\.members\.sma_cross#2\.slow"):
        EnsembleVoter(members="sma_cross; sma_cross:fast=10,slow=5")
