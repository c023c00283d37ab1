"""Ensemble weights learned on a training window: no look-ahead, better members weigh more."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest

from papertape.engine.errors import ConfigError
from papertape.engine.execution.orders import Signal, Target
from papertape.engine.snapshot import Snapshot
from papertape.engine.strategy import Strategy
from papertape.ml.ensemble import LearnedWeights
from papertape.strategies.ensemble import EnsembleVoter
from tests.conftest import flat_bars, make_engine

# up, down, up, down ...: after a down bar the next one is up
ZIGZAG = [100.0 + (i % 2) for i in range(30)]
TRAIN = 16


class Contrarian(Strategy):
    """Long after a down bar, flat after an up bar; every ``miss_every``-th call inverted."""

    name: ClassVar[str] = "t_contra"
    defaults: ClassVar[dict[str, Any]] = {"miss_every": 0, "invert": False}

    def on_start(self, ctx: Any) -> None:
        self.calls = 0

    def on_bar(self, snap: Snapshot, portfolio: Any) -> Signal | None:
        closes = snap.closes(2)
        if len(closes) < 2:
            return None
        self.calls += 1
        bet_up = closes[-1] < closes[-2]
        if self.p.invert:
            bet_up = not bet_up
        if self.p.miss_every and self.calls % self.p.miss_every == 0:
            bet_up = not bet_up
        return Signal.long() if bet_up else Signal.flat()


@pytest.fixture(autouse=True)
def _catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    class Catalog:
        def strategy(self, name: str) -> type[Strategy]:
            return {"t_contra": Contrarian}[name]

    import papertape.engine.registry as registry

    monkeypatch.setattr(registry, "build_catalog", lambda pm, broken: Catalog())


MEMBERS = "t_contra; t_contra:miss_every=4; t_contra:invert=true"


def _run(closes: list[float], **params: Any) -> tuple[EnsembleVoter, Any]:
    voter = EnsembleVoter(members=MEMBERS, weights="learned", **params)
    engine, rec = make_engine(flat_bars(closes), [("ens", voter)])
    engine.run_sync()
    return voter, rec


def _window(kind: str) -> dict[str, Any]:
    if kind == "train_bars":
        return {"train_bars": TRAIN}
    t = flat_bars(ZIGZAG).time[TRAIN]  # the first bar after the training window
    return {"train_end": str(np.datetime64(int(t), "ns"))}


@pytest.mark.parametrize("kind", ["train_bars", "train_end"])
def test_a_member_right_more_often_gets_more_weight(kind: str) -> None:
    voter, rec = _run(ZIGZAG, **_window(kind))
    w = voter.stats()["learned_weights"]
    rates = voter.stats()["hit_rates"]
    assert rates["t_contra"] == 1.0 and rates["t_contra#3"] == 0.0
    assert 0.5 < rates["t_contra#2"] < 1.0
    assert w["t_contra"] > w["t_contra#2"] > w["t_contra#3"] == 0.0
    # nothing is traded while training; afterwards the vote follows the learned weights
    signals = rec.kinds("signal")
    first_trading = flat_bars(ZIGZAG).time[TRAIN]
    assert signals and all(e.time >= first_trading for e in signals)


@pytest.mark.parametrize("kind", ["train_bars", "train_end"])
def test_bars_after_the_training_window_do_not_change_the_weights(kind: str) -> None:
    rng = np.random.default_rng(3)
    other_future = ZIGZAG[:TRAIN] + list(100.0 + rng.normal(0, 1, len(ZIGZAG) - TRAIN).cumsum())
    a, _ = _run(ZIGZAG, **_window(kind))
    b, _ = _run(other_future, **_window(kind))
    assert a.stats()["learned_weights"] == b.stats()["learned_weights"]
    assert a.stats()["hit_rates"] == b.stats()["hit_rates"]
    # the last training bar's stance is never scored against a bar of the trading window
    assert a.learner is not None and sum(a.learner.calls.values()) == 3 * (TRAIN - 2)


def test_no_member_beats_chance_keeps_the_configured_weights() -> None:
    learner = LearnedWeights({"a": 2.0, "b": 1.0}, train_bars=5)
    for close, votes in [(1.0, {"a": 1.0, "b": 1.0}), (0.9, {"a": 1.0}), (0.8, {})]:
        learner.observe("X", close, votes)
    assert learner.freeze() == {"a": 2.0, "b": 1.0} and learner.fallback
    assert learner.in_training(0, 1) is False  # frozen: training is over for good


def test_learned_weights_need_exactly_one_training_window() -> None:
    for bad in ({}, {"train_bars": 5, "train_end": "2020-01-01"}):
        with pytest.raises(ConfigError, match="train_end"):
            EnsembleVoter(members="t_contra", weights="learned", **bad)
    with pytest.raises(ConfigError, match="weights"):
        EnsembleVoter(members="t_contra", weights="magic")
    with pytest.raises(ConfigError, match="train_end"):
        EnsembleVoter(members="t_contra", weights="learned", train_end="soon")


def test_after_training_the_vote_follows_the_heaviest_member() -> None:
    # weights ~ contra 1, contra#2 ~0.43, contra#3 0: with threshold 0.5 only contra's call
    # can carry the vote, so the ensemble is long exactly after a down bar
    _, rec = _run(ZIGZAG, train_bars=TRAIN, threshold=0.5)
    series = flat_bars(ZIGZAG)
    row = {int(t): i for i, t in enumerate(series.time)}
    got = [(row[e.time], Target(e.target)) for e in rec.kinds("signal")]
    assert len(got) == len(ZIGZAG) - TRAIN  # a change of stance on every trading bar
    for i, target in got:
        went_down = series.close[i] < series.close[i - 1]
        assert target is (Target.LONG if went_down else Target.FLAT)


def test_the_shipped_ensemble_demo_learns_what_docs_rl_md_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pathlib import Path

    from papertape.engine.config import load_config
    from papertape.engine.session import run_session

    monkeypatch.undo()  # the real catalog: the demo's members are built-in strategies
    root = Path(__file__).resolve().parents[2]
    result = run_session(load_config(root / "configs" / "ensemble-demo.toml"), journal=False)
    stats = result.strategies["vote_learned"].stats
    assert stats["learned_weights"]["rsi_reversion"] == 0.0
    assert stats["hit_rates"]["sma_cross"] == pytest.approx(0.532, abs=5e-4)
    assert result.strategies["vote_fixed"].metrics.trades == 63
