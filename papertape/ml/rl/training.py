"""PPO training of a sizing policy, saved with its metadata in the model registry.

A model version folder holds ``policy.zip`` (stable-baselines3) and ``metadata.json`` (data
range, strategy, costs, observation features, reward, seed, metrics, library versions).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from papertape.engine.errors import ConfigError, ModelError
from papertape.ml.registry import read_metadata, resolve_version, write_version
from papertape.ml.rl.env import SizingEnv
from papertape.ml.rl.observation import FEATURES, Policy, RewardSpec
from papertape.ml.rl.setup import SLOT

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from papertape.ml.rl.setup import SizingSetup

__all__ = ["POLICY_FILE", "PPOSettings", "TrainedSizer", "load_policy", "train_sizer"]

POLICY_FILE = "policy.zip"
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class PPOSettings:
    """PPO hyperparameters, small by default so a policy trains on 2 cores in minutes."""

    timesteps: int = 20_000
    n_steps: int = 512
    batch_size: int = 64
    n_epochs: int = 5
    learning_rate: float = 3e-4
    gamma: float = 0.99
    hidden: int = 32
    max_fraction: float = 1.0

    def __post_init__(self) -> None:
        """Refuse impossible values, naming the key."""
        for key in ("timesteps", "n_steps", "batch_size", "n_epochs", "hidden"):
            if getattr(self, key) < 1:
                raise ConfigError(key, getattr(self, key), "must be >= 1")
        if not 0.0 < self.max_fraction <= 1.0:
            raise ConfigError("max_fraction", self.max_fraction, "must be in (0, 1]")
        if not (0.0 < self.gamma <= 1.0 and math.isfinite(self.learning_rate)):
            raise ConfigError("gamma", self.gamma, "must be in (0, 1]")


@dataclass(frozen=True, slots=True)
class TrainedSizer:
    """A saved policy: its version folder and metadata."""

    path: Path
    metadata: dict[str, Any]


def _versions() -> dict[str, str]:
    import gymnasium
    import stable_baselines3
    import torch

    from papertape.engine.assembly import papertape_version

    return {
        "papertape": papertape_version(),
        "stable_baselines3": stable_baselines3.__version__,
        "gymnasium": gymnasium.__version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
    }


def rollout(env: SizingEnv, policy: Policy) -> dict[str, float]:
    """Run one deterministic episode; its decisions, total reward and final equity."""
    obs, info = env.reset(seed=0)
    start, total, steps, done = float(info["equity"]), 0.0, 0, env.done
    equity = start
    while not done:
        obs, reward, done, _, info = env.step(np.array([policy(obs)], dtype=np.float32))
        total += reward
        steps += 1
        equity = float(info["equity"])
    return {
        "decisions": float(steps),
        "total_reward": total,
        "return": equity / start - 1.0 if start > 0 else 0.0,
    }


def train_sizer(
    setup: SizingSetup,
    out: str | Path,
    *,
    seed: int = 7,
    ppo: PPOSettings | None = None,
    reward: RewardSpec | None = None,
    progress: Progress | None = None,
) -> TrainedSizer:
    """Train a PPO sizing policy on ``setup`` and save it as a new registry version.

    Args:
        setup: Strategy, data window and costs (the training window only).
        out: The model folder (``v1``, ``v2`` … are created inside).
        seed: Seeds PPO, torch and numpy: the same seed and data give the same policy.
        ppo: Hyperparameters.
        reward: The reward definition.
        progress: Called with (timesteps done, total) during training.

    Raises:
        ModelError: The strategy makes no decisions on the data, or saving failed.
    """
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.utils import set_random_seed

    hyper = ppo or PPOSettings()
    reward = reward or RewardSpec()
    env = SizingEnv(setup.build, SLOT, reward, hyper.max_fraction)
    env.reset(seed=seed)
    if env.done:
        raise ModelError(
            f"strategy {setup.strategy!r} makes no sizing decision on the training data: "
            "nothing to learn (give more data or another strategy)"
        )
    set_random_seed(seed)

    class _Report(BaseCallback):
        def _on_step(self) -> bool:
            if progress is not None:
                progress(self.num_timesteps, hyper.timesteps)
            return True

    began = time.perf_counter()
    model = PPO(
        "MlpPolicy",
        env,
        n_steps=hyper.n_steps,
        batch_size=hyper.batch_size,
        n_epochs=hyper.n_epochs,
        learning_rate=hyper.learning_rate,
        gamma=hyper.gamma,
        policy_kwargs={"net_arch": [hyper.hidden, hyper.hidden]},
        seed=seed,
        device="cpu",
        verbose=0,
    )
    model.learn(total_timesteps=hyper.timesteps, callback=_Report())
    seconds = time.perf_counter() - began

    def act(obs: NDArray[np.float32]) -> float:
        return float(model.predict(obs, deterministic=True)[0][0])

    metrics = rollout(env, act)
    env.close()

    def write(folder: Path) -> list[str]:
        model.save(folder / POLICY_FILE)
        return [POLICY_FILE]

    metadata = {
        "kind": "rl_sizer",
        "algorithm": "PPO",
        "data": setup.describe(),
        "features": list(FEATURES),
        "action": {
            "range": [-1.0, 1.0],
            "maps_to": "fraction of equity, linearly onto [0, max_fraction]",
            "max_fraction": hyper.max_fraction,
        },
        "reward": {"formula": "scale*(log(E1/E0) - drawdown_penalty*max(0, DD1-DD0))"}
        | asdict(reward),
        "hyperparameters": asdict(hyper),
        "seed": seed,
        "training_seconds": round(seconds, 2),
        "metrics": {"train": metrics},
        "versions": _versions(),
    }
    folder = write_version(out, write, metadata)
    return TrainedSizer(folder, read_metadata(folder))


def load_policy(path: str | Path) -> tuple[Policy, dict[str, Any]]:
    """Load a trained sizing policy (a version folder, or a model folder: its latest version).

    Returns:
        A deterministic policy (observation → fraction of equity) and the metadata.

    Raises:
        ModelError: Not an RL sizer, or its files do not match their recorded hashes.
    """
    from stable_baselines3 import PPO

    folder = resolve_version(path)
    meta = read_metadata(folder)
    if meta.get("kind") != "rl_sizer":
        raise ModelError(f"{folder} is not an RL sizer (kind {meta.get('kind')!r})")
    if list(meta.get("features", [])) != list(FEATURES):
        raise ModelError(
            f"{folder} was trained on features {meta.get('features')}, this version observes "
            f"{list(FEATURES)}: retrain it"
        )
    try:
        model = PPO.load(folder / POLICY_FILE, device="cpu")
    except (OSError, ValueError, RuntimeError) as exc:
        raise ModelError(f"cannot load the policy in {folder}: {exc}") from exc

    def act(obs: NDArray[np.float32]) -> float:
        return float(model.predict(obs, deterministic=True)[0][0])

    return act, meta
