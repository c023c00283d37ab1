"""What the sizing agent sees, what it is paid, and the sizer that asks a policy.

The observation is built at the moment a sizer is called (the strategy has just signalled,
the snapshot holds only closed bars), from the snapshot, the strategy's portfolio and the
signal. The same :class:`PolicySizer` serves training (the environment answers for the
policy) and inference (a trained policy answers), so the two cannot drift apart.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from papertape.engine.errors import ConfigError
from papertape.engine.execution.orders import Target
from papertape.engine.sizing import Sizer

if TYPE_CHECKING:
    from papertape.engine.execution.orders import Signal
    from papertape.engine.portfolio import PortfolioView
    from papertape.engine.snapshot import Snapshot

__all__ = [
    "FEATURES",
    "Decision",
    "PolicySizer",
    "RewardSpec",
    "observe",
    "to_fraction",
]

#: The observation's fields, in order (also written into model metadata).
FEATURES: tuple[str, ...] = (
    "equity_change",  # log(equity / initial cash)
    "drawdown",  # 1 - equity / peak equity seen at decisions
    "open_pnl",  # open P&L of the symbol's position / equity
    "exposure",  # signed position value / equity
    "realised_vol",  # std of the last 20 log returns (per bar)
    "atr_pct",  # 14-bar average true range / close
    "signal",  # +1 long, -1 short
    "strength",  # the signal's own size hint (1 when absent)
    "regime_calm",  # the regime annotator's regime_probs when present, else 0
    "regime_transition",
    "regime_volatile",
)
VOL_WINDOW = 20
ATR_WINDOW = 14
Policy = Callable[[NDArray[np.float32]], float]


def _regime_probs(snap: Snapshot) -> tuple[float, float, float]:
    """(calm, transition, volatile) from the regime annotator's ``regime_probs``, else zeros.

    With 2 regimes there is no transition (0); with 4, "normal" is counted as transition.
    """
    ann = snap.annotations
    probs = ann.get("regime_probs") if ann else None
    if not isinstance(probs, Mapping):
        return (0.0, 0.0, 0.0)
    calm = float(probs.get("calm", 0.0))
    transition = float(probs.get("transition", 0.0)) + float(probs.get("normal", 0.0))
    return (calm, transition, float(probs.get("volatile", 0.0)))


def observe(
    signal: Signal, snap: Snapshot, portfolio: PortfolioView, price: float, peak: float
) -> NDArray[np.float32]:
    """The observation at a decision (only bars closed by then; see :data:`FEATURES`).

    Args:
        signal: The strategy's signal being sized.
        snap: The decision's snapshot.
        portfolio: The strategy's portfolio, marked at the decision's closes.
        price: The reference price of the decision.
        peak: The highest equity seen at earlier decisions (and now).
    """
    sym = signal.symbol or snap.symbol
    equity = portfolio.equity
    eq = equity if equity > 0.0 else 1e-9
    closes = snap.closes(VOL_WINDOW + 1, sym)
    rets = np.diff(np.log(closes)) if len(closes) > 2 else np.zeros(1)
    vol = float(np.std(rets, ddof=1)) if len(rets) > 1 else 0.0
    highs = snap.window("high", ATR_WINDOW + 1, sym)
    lows = snap.window("low", ATR_WINDOW + 1, sym)
    cl = snap.closes(ATR_WINDOW + 1, sym)
    if len(cl) > 1:
        prev = cl[:-1]
        tr = np.maximum(highs[1:] - lows[1:], np.abs(highs[1:] - prev))
        tr = np.maximum(tr, np.abs(lows[1:] - prev))
        atr = float(np.mean(tr)) / price if price > 0.0 else 0.0
    else:
        atr = 0.0
    pos = portfolio.position(sym)
    qty = pos.qty if pos is not None else 0.0
    open_pnl = qty * (price - pos.avg_price) / eq if pos is not None else 0.0
    strength = signal.size if signal.size is not None else 1.0
    side = 1.0 if signal.target is Target.LONG else -1.0
    out = np.array(
        [
            math.log(eq / portfolio.initial_cash) if portfolio.initial_cash > 0 else 0.0,
            1.0 - eq / peak if peak > 0.0 else 0.0,
            open_pnl,
            qty * price / eq,
            vol,
            atr,
            side,
            strength,
            *_regime_probs(snap),
        ],
        dtype=np.float32,
    )
    return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)


def to_fraction(action: float, max_fraction: float) -> float:
    """Map a policy's action in ``[-1, 1]`` linearly onto ``[0, max_fraction]`` of equity.

    A symmetric action range keeps PPO's initial Gaussian (mean 0) at half size instead of
    clipping half its samples to zero; non-finite actions count as -1 (no position). The
    action is first rounded to float32, as policies act in float32, so an action handed
    through the environment and one computed in ``run()`` give the same units.
    """
    a = float(np.float32(action)) if math.isfinite(action) else -1.0
    return (min(max(a, -1.0), 1.0) + 1.0) * 0.5 * max_fraction


@dataclass(frozen=True, slots=True)
class RewardSpec:
    """Reward of one decision interval: risk-adjusted return with a drawdown penalty.

    ``reward = scale × (log(E₁/E₀) − drawdown_penalty × max(0, DD₁ − DD₀))`` where ``E`` is
    equity at consecutive decisions (the last at the end of the replay) and ``DD`` the drawdown
    from the peak equity at decisions. A penalty of 0 is plain log growth (Kelly-like).
    """

    drawdown_penalty: float = 0.5
    scale: float = 100.0

    def __post_init__(self) -> None:
        """Refuse negative or non-finite knobs."""
        for key in ("drawdown_penalty", "scale"):
            value = getattr(self, key)
            if not (math.isfinite(value) and value >= 0.0):
                raise ConfigError(f"reward.{key}", value, "must be a finite number >= 0")

    def __call__(self, e0: float, e1: float, dd0: float, dd1: float) -> float:
        """The reward between two decisions."""
        growth = math.log(max(e1, 1e-9) / max(e0, 1e-9))
        return self.scale * (growth - self.drawdown_penalty * max(0.0, dd1 - dd0))


@dataclass(frozen=True, slots=True)
class Decision:
    """One sizing decision: when, the fraction of equity chosen and the units it made."""

    time: int
    fraction: float
    qty: float
    equity: float


class PolicySizer(Sizer):
    """A sizer whose fraction of equity comes from a policy over :func:`observe`.

    ``policy`` is set after construction (training: the environment; inference: a loaded
    model) and returns an action in ``[-1, 1]`` (see :func:`to_fraction`); units = fraction ×
    equity / price.
    """

    name: ClassVar[str] = "policy"
    defaults: ClassVar[dict[str, Any]] = {"max_fraction": 1.0}

    def __init__(self, policy: Policy | None = None, **params: Any) -> None:
        super().__init__(**params)
        self.policy = policy
        self.peak = 0.0
        self.decisions: list[Decision] = []

    def size(self, signal: Signal, snap: Snapshot, portfolio: PortfolioView, price: float) -> float:
        """Ask the policy for a fraction of equity and convert it to units."""
        if self.policy is None:
            raise ConfigError("sizer.model", None, "the policy sizer has no policy loaded")
        equity = portfolio.equity
        self.peak = max(self.peak, equity)
        obs = observe(signal, snap, portfolio, price, self.peak)
        frac = to_fraction(float(self.policy(obs)), float(self.p.max_fraction))
        qty = frac * max(equity, 0.0) / price if price > 0.0 else 0.0
        self.decisions.append(Decision(snap.time, frac, qty, equity))
        return qty
