"""Reinforcement-learning position sizing on the engine's own replay.

* :mod:`~papertape.ml.rl.observation`: the observation, the reward, the policy sizer.
* :mod:`~papertape.ml.rl.env`: the gymnasium environment over the stepping API.
* :mod:`~papertape.ml.rl.training`: PPO training and the model registry.
"""

from __future__ import annotations

from papertape.ml.rl.env import SizingEnv
from papertape.ml.rl.observation import FEATURES, Decision, PolicySizer, RewardSpec, observe

__all__ = ["FEATURES", "Decision", "PolicySizer", "RewardSpec", "SizingEnv", "observe"]
