"""The ``rl`` sizer: a trained PPO policy chooses the fraction of equity for each signal.

The policy sees the same observation it was trained on (:func:`papertape.ml.rl.observe`,
built at the decision from closed bars only) and acts deterministically. The strategy still
chooses the direction; the policy chooses only the size. Config::

    [strategies.sizer]
    name = "rl"
    params = { model = "models/rl-sizer-sp500", max_fraction = 1.0 }
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from papertape.engine.errors import ConfigError
from papertape.engine.hookspecs import hookimpl
from papertape.ml.rl.observation import PolicySizer

if TYPE_CHECKING:
    from collections.abc import Sequence

    from papertape.engine.sizing import Sizer

__all__ = ["RLSizer"]


class RLSizer(PolicySizer):
    """Sizes signals with a trained policy (``model``: a registry model or version folder)."""

    name: ClassVar[str] = "rl"
    defaults: ClassVar[dict[str, Any]] = {"model": "", "max_fraction": 1.0}

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        if not isinstance(self.p.model, str) or not self.p.model:
            raise ConfigError("sizer.model", self.p.model, "give the trained policy's folder")
        if not 0.0 < self.p.max_fraction <= 1.0:
            raise ConfigError("sizer.max_fraction", self.p.max_fraction, "must be in (0, 1]")
        from papertape.ml.rl.training import load_policy

        self.policy, self.metadata = load_policy(Path(self.p.model))


@hookimpl
def papertape_sizers() -> Sequence[type[Sizer]]:
    """Register the ``rl`` sizer."""
    return (RLSizer,)
