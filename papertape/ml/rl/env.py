"""A gymnasium environment for position sizing, over the engine's own stepping API.

The engine replays the data with ``start()``/``step()``/``finish()``: its fills, fees,
slippage, buying power and shields, next-bar execution. The strategy's slot is sized by a
:class:`~papertape.ml.rl.observation.PolicySizer`; each time the strategy signals, the sizer
hands the observation to the agent and waits for its action (a fraction of equity). So one
environment step is one sizing decision, taken at the decision's moment with only closed bars
in view: exactly what the ``rl`` sizer does inside ``run()``.

Why a worker thread: a decision is needed *inside* an engine step (after the strategy
signalled, before the order is made), while gymnasium calls ``env.step(action)`` from outside.
The replay runs in a worker thread that drives the stepping API and stops at each decision;
the two threads run in lockstep, so results are deterministic.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np
from numpy.typing import NDArray

from papertape.engine.errors import ModelError
from papertape.ml.rl.observation import FEATURES, PolicySizer, RewardSpec, to_fraction

if TYPE_CHECKING:
    from papertape.engine.loop import Engine
    from papertape.engine.sizing import Sizer

__all__ = ["EngineFactory", "SizingEnv"]

EngineFactory = Callable[["Sizer"], "Engine"]
_TIMEOUT_S = 120.0


class _Abandoned(BaseException):
    """Drops an episode from inside the worker (a BaseException: the engine must not contain it)."""


class _EnvSizer(PolicySizer):
    """The policy sizer as the environment uses it: it also reports equity at the decision."""

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._asking_equity = 0.0

    def decisions_equity(self) -> float:
        """Equity at the decision being asked (set just before the policy is called)."""
        return self._asking_equity

    def size(self, signal: Any, snap: Any, portfolio: Any, price: float) -> float:
        """Remember the decision's equity, then size as the policy sizer does."""
        self._asking_equity = float(portfolio.equity)
        return super().size(signal, snap, portfolio, price)


class SizingEnv(gym.Env[NDArray[np.float32], NDArray[np.float32]]):
    """Position sizing on a fixed signal, as a gymnasium environment.

    Args:
        build: Makes a fresh engine whose one strategy slot uses the given sizer.
        slot_id: The id of that slot.
        reward: The reward definition (see :class:`RewardSpec`).
        max_fraction: Largest size (fraction of equity; 1 = fully invested). The action is in
            ``[-1, 1]`` and maps linearly onto ``[0, max_fraction]``.
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(
        self,
        build: EngineFactory,
        slot_id: str = "s",
        reward: RewardSpec | None = None,
        max_fraction: float = 1.0,
    ) -> None:
        self.build = build
        self.slot_id = slot_id
        self.reward_spec = reward or RewardSpec()
        self.max_fraction = float(max_fraction)
        self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
        self.observation_space = gym.spaces.Box(
            -np.inf, np.inf, shape=(len(FEATURES),), dtype=np.float32
        )
        self.engine: Engine | None = None
        self.sizer: _EnvSizer | None = None
        self._worker: threading.Thread | None = None
        self._actions: queue.Queue[float | None] = queue.Queue(maxsize=1)
        self._events: queue.Queue[tuple[str, Any, float]] = queue.Queue(maxsize=1)
        self._equity = 0.0
        self._dd = 0.0
        self._peak = 0.0
        self._done = True

    # -- the worker: the engine's replay, paused at each decision ---------------------------
    def _ask(self, obs: NDArray[np.float32]) -> float:
        assert self.sizer is not None
        self._events.put(("obs", obs, self.sizer.decisions_equity()))
        action = self._actions.get()
        if action is None:
            raise _Abandoned
        return action

    def _replay(self, engine: Engine) -> None:
        try:
            engine.start()
            while not engine.step().done:
                pass
            engine.finish()
            slot = next(s for s in engine.slots if s.id == self.slot_id)
            self._events.put(("done", None, slot.portfolio.curve[-1]))
        except _Abandoned:
            return
        except BaseException as exc:  # handed to the caller's thread, raised there
            self._events.put(("error", exc, 0.0))

    def _next_event(self) -> tuple[str, Any, float]:
        try:
            kind, payload, equity = self._events.get(timeout=_TIMEOUT_S)
        except queue.Empty as exc:
            raise ModelError("the sizing environment's replay stopped answering") from exc
        if kind == "error":
            raise ModelError(f"the replay under the environment failed: {payload}") from payload
        return kind, payload, equity

    def _abandon(self) -> None:
        worker = self._worker
        if worker is not None and worker.is_alive():
            self._actions.put(None)
            worker.join(timeout=_TIMEOUT_S)
        self._worker = None

    @property
    def done(self) -> bool:
        """Whether the episode is over (also right after a reset on data with no decision)."""
        return self._done

    # -- gymnasium ---------------------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[NDArray[np.float32], dict[str, Any]]:
        """Start a new replay and return the observation at its first decision."""
        super().reset(seed=seed)
        self._abandon()
        self._actions = queue.Queue(maxsize=1)
        self._events = queue.Queue(maxsize=1)
        self.sizer = _EnvSizer(max_fraction=self.max_fraction)
        self.sizer.policy = self._ask
        self.engine = self.build(self.sizer)
        self._worker = threading.Thread(
            target=self._replay, args=(self.engine,), name="papertape-sizing-env", daemon=True
        )
        self._worker.start()
        kind, obs, equity = self._next_event()
        self._equity = self._peak = equity
        self._dd = 0.0
        self._done = kind == "done"
        if self._done:
            obs = np.zeros(len(FEATURES), dtype=np.float32)
        return obs, {"equity": equity}

    def step(
        self, action: NDArray[np.float32]
    ) -> tuple[NDArray[np.float32], float, bool, bool, dict[str, Any]]:
        """Size the pending signal with ``action`` and run the replay to the next decision."""
        if self._done:
            raise ModelError("the episode is over: call reset()")
        raw = float(np.asarray(action, dtype=np.float64).reshape(-1)[0])
        self._actions.put(raw)
        kind, obs, equity = self._next_event()
        self._peak = max(self._peak, equity)
        dd = 1.0 - equity / self._peak if self._peak > 0.0 else 0.0
        reward = self.reward_spec(self._equity, equity, self._dd, dd)
        self._equity, self._dd = equity, dd
        self._done = kind == "done"
        if self._done:
            obs = np.zeros(len(FEATURES), dtype=np.float32)
            self._worker = None
        return (
            obs,
            reward,
            self._done,
            False,
            {"equity": equity, "fraction": to_fraction(raw, self.max_fraction)},
        )

    def close(self) -> None:
        """Drop a running replay."""
        self._abandon()
