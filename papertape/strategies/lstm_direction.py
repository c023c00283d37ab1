"""LSTM direction: long while the model's P(up over the next N bars) passes a threshold.

Trained with ``papertape train lstm`` (see docs/lstm.md). The features of each decision are
computed from the snapshot's closed bars only, with the same code as in training.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from papertape.engine.errors import ConfigError
from papertape.engine.execution.orders import Signal
from papertape.engine.strategy import Strategy, StrategyContext

if TYPE_CHECKING:
    from papertape.engine.portfolio import PortfolioView
    from papertape.engine.snapshot import Snapshot

__all__ = ["LstmDirection"]


class LstmDirection(Strategy):
    """Long when P(up) >= ``enter``, flat when it falls below ``exit``; ``model``: folder.

    It signals when its stance differs from the position it holds (so a long the engine
    dropped in the warm-up before ``[run] start`` is asked for when the window opens).
    """

    name: ClassVar[str] = "lstm_direction"
    defaults: ClassVar[dict[str, Any]] = {"model": "", "enter": 0.55, "exit": 0.5}

    def validate(self) -> None:
        """A model folder and ``0 <= exit <= enter <= 1``."""
        if not self.p.model:
            raise ConfigError("params.model", self.p.model, "give the trained model's folder")
        if not 0.0 <= self.p.exit <= self.p.enter <= 1.0:
            raise ConfigError("params.enter", self.p.enter, "need 0 <= exit <= enter <= 1")

    def on_start(self, ctx: StrategyContext) -> None:
        """Load the model."""
        from papertape.ml.lstm.features import WARMUP
        from papertape.ml.lstm.model import DirectionModel

        self.model = DirectionModel.load(self.p.model)
        self._need = self.model.lookback + WARMUP
        self.last_prob = float("nan")

    def on_bar(self, snap: Snapshot, portfolio: PortfolioView) -> Signal | None:
        """Score the last ``lookback`` bars; signal on a change of stance."""
        from papertape.ml.lstm.features import feature_matrix

        if snap.bars() < self._need:
            return None
        n = self._need
        x = feature_matrix(
            snap.window("high", n), snap.window("low", n), snap.closes(n), snap.window("volume", n)
        )
        p = float(self.model.prob_up(x[None, -self.model.lookback :].astype(np.float32))[0])
        self.last_prob = p
        # Compared with the position held, not with the last signal: a signal the engine
        # dropped (a warm-up bar before [run] start, a shield's veto) is asked for again.
        held = portfolio.qty(snap.symbol)
        if p >= self.p.enter:
            return Signal.long(f"P(up)={p:.3f}") if held <= 0.0 else None
        if p < self.p.exit and held > 0.0:
            return Signal.flat(f"P(up)={p:.3f}")
        return None
