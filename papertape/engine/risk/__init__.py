"""Risk shields: one protection per module, all implementing :class:`~engine.risk.base.Shield`."""

from papertape.engine.risk.base import OrderIntent, Shield, ShieldState, Transition
from papertape.engine.risk.cooldown import CooldownShield
from papertape.engine.risk.daily_loss import DailyLossShield
from papertape.engine.risk.exposure import ExposureCapShield
from papertape.engine.risk.loss_streak import LossStreakShield
from papertape.engine.risk.max_drawdown import MaxDrawdownShield

__all__ = [
    "BUILTIN_SHIELDS",
    "CooldownShield",
    "DailyLossShield",
    "ExposureCapShield",
    "LossStreakShield",
    "MaxDrawdownShield",
    "OrderIntent",
    "Shield",
    "ShieldState",
    "Transition",
]

BUILTIN_SHIELDS: tuple[type[Shield], ...] = (
    MaxDrawdownShield,
    LossStreakShield,
    CooldownShield,
    DailyLossShield,
    ExposureCapShield,
)
