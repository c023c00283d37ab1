"""The sizing environment drives the engine's own replay: same sizes, same fills as run()."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from papertape.engine.execution.orders import Signal
from papertape.engine.sizing import Sizer
from papertape.engine.snapshot import Snapshot
from papertape.engine.strategy import Strategy
from papertape.ml.rl import FEATURES, PolicySizer, RewardSpec, SizingEnv
from tests.conftest import DAY, T0, flat_bars, make_engine

CLOSES = [100.0 + 8.0 * np.sin(i * 1.7) + 0.3 * i for i in range(60)]


class Stance(Strategy):
    """Long when the close is above the previous one, short otherwise: a signal every bar."""

    name = "stance"

    def on_bar(self, snap: Snapshot, portfolio: Any) -> Signal | None:
        c = snap.closes(2)
        if len(c) < 2:
            return None
        return Signal.long() if c[-1] >= c[-2] else Signal.short()


def _policy(obs: Any) -> float:
    """A fixed policy that uses the observation (so a wrong observation changes the fills)."""
    return 0.2 + 0.5 * abs(float(np.tanh(10.0 * obs[0] + obs[3]))) + 0.1 * float(obs[6])


def _series(closes: list[float]) -> Any:
    return flat_bars(closes)


def _build(closes: list[float]) -> Any:
    def build(sizer: Sizer) -> Any:
        engine, rec = make_engine(_series(closes), Stance(), sizer=sizer, slippage_bps=5.0)
        build.recorders.append(rec)  # type: ignore[attr-defined]
        return engine

    build.recorders = []  # type: ignore[attr-defined]
    return build


def _fills(events: list[Any]) -> list[tuple[int, float, float, int]]:
    return [(e.time, e.qty, e.price, e.side) for e in events if e.kind == "fill"]


def _drive(env: SizingEnv, policy: Any) -> tuple[list[Any], float]:
    obs, _ = env.reset(seed=0)
    seen, total, done = [obs], 0.0, False
    while not done:
        obs, reward, done, _, _ = env.step(np.array([policy(obs)], dtype=np.float32))
        seen.append(obs)
        total += reward
    return seen, total


def test_the_env_and_run_with_the_same_policy_give_the_same_fills() -> None:
    build = _build(CLOSES)
    env = SizingEnv(build)
    _drive(env, _policy)
    env_rec = build.recorders[-1]
    assert env.sizer is not None
    env_units = [d.qty for d in env.sizer.decisions]

    sizer = PolicySizer(policy=_policy)
    engine, run_rec = make_engine(_series(CLOSES), Stance(), sizer=sizer, slippage_bps=5.0)
    engine.run_sync()

    assert len(_fills(run_rec.events)) > 20
    assert _fills(env_rec.events) == _fills(run_rec.events)
    assert [d.qty for d in sizer.decisions] == env_units
    assert env.engine is not None
    assert list(env.engine.slots[0].portfolio.curve) == list(engine.slots[0].portfolio.curve)


def test_the_env_sizes_replayed_through_run_give_the_same_fills() -> None:
    build = _build(CLOSES)
    env = SizingEnv(build)
    _drive(env, lambda obs: 0.9 if obs[6] > 0 else 0.3)
    assert env.sizer is not None
    planned = {d.time: d.qty for d in env.sizer.decisions}

    class Replayed(Sizer):
        name = "replayed"

        def size(self, signal: Any, snap: Snapshot, portfolio: Any, price: float) -> float:
            return planned[snap.time]

    engine, run_rec = make_engine(_series(CLOSES), Stance(), sizer=Replayed(), slippage_bps=5.0)
    engine.run_sync()
    assert _fills(build.recorders[-1].events) == _fills(run_rec.events)


def test_the_reward_is_log_growth_less_the_drawdown_penalty() -> None:
    build = _build(CLOSES)
    env = SizingEnv(build, reward=RewardSpec(drawdown_penalty=0.0, scale=1.0))
    _, total = _drive(env, lambda obs: 0.5)
    assert env.engine is not None
    curve = env.engine.slots[0].portfolio.curve
    # rewards telescope to the log growth of the whole episode
    assert total == pytest.approx(np.log(curve[-1] / 10_000.0), abs=1e-9)
    penalised = SizingEnv(_build(CLOSES), reward=RewardSpec(drawdown_penalty=5.0, scale=1.0))
    _, lower = _drive(penalised, lambda obs: 0.5)
    assert lower < total


def test_no_observation_uses_a_future_bar() -> None:
    cut = 40
    changed = CLOSES[:cut] + [c * 1.5 for c in CLOSES[cut:]]
    env_a, env_b = SizingEnv(_build(CLOSES)), SizingEnv(_build(changed))
    a, _ = _drive(env_a, _policy)
    b, _ = _drive(env_b, _policy)
    assert env_a.sizer is not None and env_b.sizer is not None
    cut_time = T0 + cut * DAY
    times_a = [d.time for d in env_a.sizer.decisions]
    before = [i for i, t in enumerate(times_a) if t < cut_time]
    assert len(before) >= 5
    assert [d.time for d in env_b.sizer.decisions][: len(before)] == times_a[: len(before)]
    for i in before:  # decisions taken before the changed bars see identical observations
        np.testing.assert_array_equal(a[i], b[i])
    assert not np.array_equal(a[len(before)], b[len(before)])
    assert a[0].shape == (len(FEATURES),)


def test_reset_mid_episode_drops_the_old_replay_and_starts_over() -> None:
    env = SizingEnv(_build(CLOSES))
    first, _ = env.reset(seed=0)
    env.step(np.array([0.5], dtype=np.float32))
    again, _ = env.reset(seed=0)
    np.testing.assert_array_equal(first, again)
    env.close()
    assert env._worker is None


def test_the_observation_carries_the_annotated_regime_probabilities() -> None:
    from types import MappingProxyType

    from papertape.ml.rl.observation import observe

    seen: list[Any] = []

    class Probe(Sizer):
        name = "probe"

        def size(self, signal: Any, snap: Snapshot, portfolio: Any, price: float) -> float:
            probs = MappingProxyType({"calm": 0.7, "transition": 0.2, "volatile": 0.1})
            seen.append(
                observe(
                    signal, snap.with_annotations({"regime_probs": probs}), portfolio, price, 1.0
                )
            )
            seen.append(observe(signal, snap, portfolio, price, 1.0))
            return 1.0

    engine, _ = make_engine(_series(CLOSES), Stance(), sizer=Probe())
    engine.run_sync()
    names = list(FEATURES)
    tail = [names.index(n) for n in ("regime_calm", "regime_transition", "regime_volatile")]
    np.testing.assert_allclose(seen[0][tail], [0.7, 0.2, 0.1], rtol=1e-6)
    assert list(seen[1][tail]) == [0.0, 0.0, 0.0]
