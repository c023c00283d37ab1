"""Reinforcement-learning position sizing on the engine's own replay.

* :mod:`~papertape.ml.rl.observation`: the observation, the reward, the policy sizer.
* :mod:`~papertape.ml.rl.env`: the gymnasium environment over the stepping API.
* :mod:`~papertape.ml.rl.setup`: strategy, data window and costs shared by every contender.
* :mod:`~papertape.ml.rl.training`: PPO training and the model registry.
* :mod:`~papertape.ml.rl.evaluation`: walk-forward comparison with fixed sizing rules.

``SizingEnv`` is imported on first use: gymnasium is only needed to train (``ml`` extra).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from papertape.ml.rl.observation import FEATURES, Decision, PolicySizer, RewardSpec, observe

if TYPE_CHECKING:
    from papertape.ml.rl.env import SizingEnv

__all__ = ["FEATURES", "Decision", "PolicySizer", "RewardSpec", "SizingEnv", "observe"]


def __getattr__(name: str) -> Any:
    if name == "SizingEnv":
        from papertape.ml.rl.env import SizingEnv

        return SizingEnv
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
