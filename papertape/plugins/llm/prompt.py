"""The prompt: a compact market context built from one snapshot, and the trader's persona.

Everything in a prompt comes from the snapshot's windows (which end at the decision bar), the
trader's own portfolio view and its own closed trades, so a prompt only holds data stamped at
or before the decision time. Numbers are rounded to what a trader would read (six significant
digits for prices), which keeps prompts short and identical across platforms, and therefore
keeps cache keys stable.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np

from papertape.engine.indicators import atr, bollinger, macd, rsi, sma
from papertape.plugins.llm.memory import memory_lines

if TYPE_CHECKING:
    from papertape.engine.portfolio import PortfolioView
    from papertape.engine.snapshot import Snapshot
    from papertape.plugins.llm.memory import Situation

__all__ = [
    "PERSONAS",
    "ExitPlan",
    "Outcome",
    "Prompt",
    "PromptSettings",
    "build_prompt",
    "system_prompt",
]

DAY_NS = 86_400 * 10**9
INDICATOR_WINDOW = 260  # enough history for SMA(200) and a settled RSI/ATR
FULL_BARS = 3  # bars shown with open/high/low/volume; the rest are closes only

PERSONAS: dict[str, str] = {
    "conservative": (
        "You are a conservative swing trader. Capital preservation comes first. Buy only when "
        "trend and momentum agree, keep size at or below 0.3 of equity, always set a stop-loss, "
        "and prefer HOLD when the picture is mixed."
    ),
    "moderate": (
        "You are a disciplined trader balancing return and risk. Follow the trend, size between "
        "0.2 and 0.6 of equity by conviction, set a stop-loss on every entry and close positions "
        "whose reason to exist is gone."
    ),
    "aggressive": (
        "You are an aggressive momentum trader. Act on strong moves early, size up to the full "
        "equity when conviction is high, use wide stops and let winners run."
    ),
}

OUTPUT_RULES = """\
Decide for the symbol in the market context. Reply with one JSON object:
{{"reasoning": <your own short explanation>, "action": "BUY" | "SELL" | "HOLD" | "CLOSE", \
"size": <fraction of equity, 0.1 to 1 for BUY/SELL, 0 otherwise>, "confidence": <0 to 1>, \
"stop_loss_pct": <percent from the price, e.g. 4; 0 or null for none>, \
"take_profit_pct": <percent from the price, e.g. 8; 0 or null for none>}}
BUY = go long, SELL = {sell}, HOLD = do nothing, CLOSE = close the position. Orders fill at the \
next bar's open. Learn from your recent outcomes."""


@dataclass(frozen=True, slots=True)
class ExitPlan:
    """The stop and target a decision attached to an open position."""

    decision_id: str
    stop: float | None
    target: float | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """A closed trade of this trader, linked to the decision that opened it."""

    decision_id: str
    symbol: str
    side: str  # "long" or "short"
    entry_time: int
    exit_time: int
    entry_price: float
    exit_price: float
    pnl: float
    return_pct: float
    closed_by: str  # a decision id, or "stop_loss" / "take_profit" / "liquidation"
    reasoning: str


@dataclass(frozen=True, slots=True)
class PromptSettings:
    """How prompts are built.

    Attributes:
        persona: A key of :data:`PERSONAS`.
        system_prompt: Replaces the persona text when not empty (output rules still follow).
        candles: Recent bars shown as a series.
        reflect: Recent closed trades shown for self-reflection (0 = none).
        allow_short: Whether SELL opens a short (else it closes a long).
        interval_ns: Bar spacing, for date formatting and annualisation.
    """

    persona: str = "moderate"
    system_prompt: str = ""
    candles: int = 20
    reflect: int = 5
    allow_short: bool = False
    interval_ns: int = DAY_NS


@dataclass(frozen=True, slots=True)
class Prompt:
    """A rendered prompt, the newest timestamp of the data inside it, the memories it shows.

    ``memory`` holds the ids of the recalled past situations (``<run>#<seq>``), journaled
    with the decision.
    """

    system: str
    user: str
    data_time: int
    memory: tuple[str, ...] = ()

    @property
    def sha256(self) -> str:
        """Hash of system and user text (journaled with each decision)."""
        h = hashlib.sha256(self.system.encode("utf-8"))
        h.update(b"\x00")
        h.update(self.user.encode("utf-8"))
        return h.hexdigest()


def system_prompt(settings: PromptSettings) -> str:
    """Persona (or the custom system prompt) followed by the output rules."""
    head = settings.system_prompt.strip() or PERSONAS[settings.persona]
    sell = "open a short" if settings.allow_short else "close a long position"
    return f"{head}\n\n{OUTPUT_RULES.format(sell=sell)}"


def _num(x: float, digits: int = 6) -> str:
    if not math.isfinite(x):
        return "n/a"
    return f"{x:.{digits}g}" if abs(x) < 1e6 else f"{x:,.0f}"


def _pct(x: float, sign: str = "+") -> str:
    return f"{x * 100:{sign}.2f}%" if math.isfinite(x) else "n/a"


def _when(ns: int, intraday: bool) -> str:
    dt = datetime.fromtimestamp(ns / 1e9, tz=UTC)
    return dt.strftime("%Y-%m-%d %H:%M") if intraday else dt.strftime("%Y-%m-%d")


def _last(a: np.ndarray) -> float:
    return float(a[-1]) if len(a) else float("nan")


def _indicators(snap: Snapshot, settings: PromptSettings) -> list[str]:
    close = np.array(snap.window("close", INDICATOR_WINDOW), dtype=np.float64)
    high = np.array(snap.window("high", INDICATOR_WINDOW), dtype=np.float64)
    low = np.array(snap.window("low", INDICATOR_WINDOW), dtype=np.float64)
    n = len(close)
    price = float(close[-1])
    parts = []
    for period in (20, 50, 200):
        if n >= period:
            value = _last(sma(close, period))
            parts.append(f"SMA{period} {_num(value)} ({_pct(price / value - 1)} vs price)")
    if n > 14:
        parts.append(f"RSI14 {_last(rsi(close, 14)):.1f}")
        a = _last(atr(high, low, close, 14))
        parts.append(f"ATR14 {_num(a, 4)} ({_pct(a / price, '')} of price)")
    if n >= 34:
        parts.append(f"MACD histogram {_num(_last(macd(close).hist), 3)}")
    if n >= 20:
        bands = bollinger(close, 20, 2.0)
        width = _last(bands.upper) - _last(bands.lower)
        if width > 0:
            parts.append(f"Bollinger %B {(price - _last(bands.lower)) / width:.2f}")
        parts.append(f"20-bar return {_pct(price / float(close[-21]) - 1) if n > 20 else 'n/a'}")
        rets = np.diff(np.log(close[-21:]))
        per_year = 365.25 * DAY_NS / settings.interval_ns if settings.interval_ns > 0 else 252.0
        per_year = 252.0 if settings.interval_ns == DAY_NS else per_year
        vol = float(np.std(rets, ddof=1)) * math.sqrt(per_year)
        parts.append(f"20-bar volatility (annualised) {_pct(vol, '')}")
    return parts


def _candles(snap: Snapshot, settings: PromptSettings, intraday: bool) -> list[str]:
    """Closes as one short series, then the last few bars in full (digits cost tokens)."""
    times = snap.window("time", settings.candles)
    if not len(times):
        return ["No bars yet."]
    closes = " ".join(_num(float(c)) for c in snap.window("close", settings.candles))
    lines = [
        f"Closes of the last {len(times)} bars ({_when(int(times[0]), intraday)} to "
        f"{_when(int(times[-1]), intraday)}, oldest first): {closes}",
        "Last bars (time open high low close volume):",
    ]
    k = min(FULL_BARS, len(times))
    cols = [snap.window(f, k) for f in ("time", "open", "high", "low", "close", "volume")]
    for t, o, h, lo, c, v in zip(*cols, strict=True):
        lines.append(
            f"{_when(int(t), intraday)} {_num(float(o))} {_num(float(h))} {_num(float(lo))} "
            f"{_num(float(c))} {float(v):.3g}"
        )
    return lines


def _portfolio(
    snap: Snapshot,
    portfolio: PortfolioView,
    plans: Mapping[str, ExitPlan],
    opened_by: Mapping[str, str],
    intraday: bool,
) -> list[str]:
    lines = [f"Equity {portfolio.equity:,.2f}, cash {portfolio.cash:,.2f}."]
    held = sorted(portfolio.positions)
    if not held:
        lines.append("No open positions.")
    for sym in held:
        pos = portfolio.position(sym)
        if pos is None:
            continue
        mark = snap.last("close", sym)
        side = "LONG" if pos.qty > 0 else "SHORT"
        unreal = (mark / pos.avg_price - 1.0) * (1 if pos.qty > 0 else -1)
        text = (
            f"{side} {abs(pos.qty):.6g} {sym} @ {_num(pos.avg_price)} since "
            f"{_when(pos.entry_time, intraday)} (unrealised {_pct(unreal)})"
        )
        if sym in opened_by:
            text += f", opened by decision {opened_by[sym]}"
        plan = plans.get(sym)
        if plan is not None and (plan.stop is not None or plan.target is not None):
            stop = f"stop {_num(plan.stop)}" if plan.stop is not None else "no stop"
            target = f"target {_num(plan.target)}" if plan.target is not None else "no target"
            text += f"; exit plan: {stop}, {target}"
        lines.append(text + ".")
    return lines


def _reflection(outcomes: Sequence[Outcome], k: int, intraday: bool) -> list[str]:
    if k <= 0 or not outcomes:
        return []
    wins = sum(1 for o in outcomes if o.pnl > 0)
    total = sum(o.pnl for o in outcomes)
    lines = [
        f"Your record: {len(outcomes)} closed trades, {wins} winners, total P&L {total:,.2f}.",
        "Your most recent closed trades (oldest first):",
    ]
    for o in outcomes[-k:]:
        why = o.reasoning.replace("\n", " ")[:120]
        lines.append(
            f"- {o.decision_id} {o.side} {o.symbol} {_when(o.entry_time, intraday)} "
            f"@ {_num(o.entry_price)} -> {_when(o.exit_time, intraday)} @ {_num(o.exit_price)} "
            f"closed by {o.closed_by}: {_pct(o.return_pct)}, P&L {o.pnl:,.2f}. "
            f'Your reasoning then: "{why}"'
        )
    return lines


def build_prompt(
    snap: Snapshot,
    portfolio: PortfolioView,
    settings: PromptSettings,
    *,
    plans: Mapping[str, ExitPlan] | None = None,
    opened_by: Mapping[str, str] | None = None,
    outcomes: Sequence[Outcome] = (),
    memory: Sequence[Situation] = (),
) -> Prompt:
    """Render the system and user prompt for a decision on ``snap.symbol``.

    Args:
        snap: The decision snapshot (its windows end at the decision bar).
        portfolio: The trader's own portfolio.
        settings: Persona and sizes of the context.
        plans: Exit plans of open positions, by symbol.
        opened_by: Decision ids that opened the open positions, by symbol.
        outcomes: The trader's closed trades so far (only ones closed by now).
        memory: Recalled past situations (:mod:`plugins.llm.memory`), shown before the
            portfolio.

    Returns:
        The prompt and the newest timestamp of the data it contains.
    """
    intraday = settings.interval_ns < DAY_NS
    times = snap.window("time", settings.candles)
    data_time = int(times[-1]) if len(times) else snap.time
    sym = snap.symbol
    unit = "daily" if not intraday else f"{settings.interval_ns // 60_000_000_000}-minute"
    lines = [
        f"Market context for {sym} ({unit} bars) at the close of the bar opened "
        f"{_when(snap.time, intraday)}. Last price {_num(snap.price)}.",
        "",
        *_candles(snap, settings, intraday),
        "",
        "Indicators: " + ("; ".join(_indicators(snap, settings)) or "not enough history yet") + ".",
    ]
    regime = snap.annotations.get("regime")
    if regime is not None:
        lines.append(f"Market regime (annotated): {regime}.")
    recalled = memory_lines(memory, intraday)
    if recalled:
        lines += ["", *recalled]
    book = _portfolio(snap, portfolio, plans or {}, opened_by or {}, intraday)
    lines += ["", "Your portfolio:", *book]
    reflection = _reflection(
        [o for o in outcomes if o.exit_time <= snap.time], settings.reflect, intraday
    )
    if reflection:
        lines += ["", *reflection]
    lines += ["", f"Decide now for {sym}."]
    ids = tuple(m.id for m in memory)
    return Prompt(system_prompt(settings), "\n".join(lines), data_time, ids)
