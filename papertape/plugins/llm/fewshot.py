"""A completion-style few-shot prompt for base models, and the actions a decision may take.

A base model (the packaged Gemma 3 270M is one) does not follow chat instructions: asked in a
chat turn for a JSON decision it wrote reasoning saying "BUY" and then the action "SELL". What
a base model does well is continue a document. So this prompt is a *decision log*: a few
worked examples, each one line of market context and one JSON decision, then today's context
and the opening of its decision, ``{"action": "``, for the model to continue. Action first:
the next token is the action, which the local provider can score directly (see
:mod:`plugins.llm.providers.local_fewshot`).

The context line is deliberately short (price, 20-bar return, RSI, distance to the 50- and
200-bar averages, volatility, the position): a 270M model cannot use more, and every token of
prompt costs time on a CPU. Like the chat prompt it is built from the decision snapshot only,
so it holds no data stamped after the decision.

:func:`allowed_actions` narrows the action enum to what can change anything: flat, a CLOSE
does nothing (and a SELL does nothing without shorting); long, a BUY does nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from papertape.engine.indicators import rsi, sma
from papertape.plugins.llm.memory import memory_lines
from papertape.plugins.llm.prompt import DAY_NS, Prompt, PromptSettings

if TYPE_CHECKING:
    from papertape.engine.portfolio import PortfolioView
    from papertape.engine.snapshot import Snapshot
    from papertape.plugins.llm.memory import Situation

__all__ = [
    "CONTEXT",
    "DECISION_OPENER",
    "allowed_actions",
    "build_completion_prompt",
    "completion_header",
    "context_line",
    "reference_contexts",
    "restrict_actions",
]

CONTEXT = "Context: "
DECISION_OPENER = '{"action": "'
# Reference markets for calibration: 20-bar return x distance to the 50-bar average.
_GRID = tuple((r, d) for r in (-6.0, -2.0, 2.0, 6.0) for d in (-4.0, 4.0))

_EXAMPLES: tuple[tuple[str, str], ...] = (
    (
        "price 1180.2; 20-bar return +3.8%; RSI14 63; vs SMA50 +2.9%; vs SMA200 +7.4%; "
        "volatility 13%; position: none",
        'BUY", "size": 0.5, "stop_loss_pct": 5, "take_profit_pct": 12, '
        '"reasoning": "Uptrend above both averages with steady momentum."',
    ),
    (
        "price 902.4; 20-bar return -6.1%; RSI14 34; vs SMA50 -5.2%; vs SMA200 -14.8%; "
        "volatility 31%; position: none",
        'HOLD", "size": 0, "stop_loss_pct": null, "take_profit_pct": null, '
        '"reasoning": "Falling market below its averages; wait for a base."',
    ),
    (
        "price 1321.7; 20-bar return +1.2%; RSI14 58; vs SMA50 +1.9%; vs SMA200 +6.0%; "
        "volatility 11%; position: long, unrealised +4.1%",
        'HOLD", "size": 0, "stop_loss_pct": null, "take_profit_pct": null, '
        '"reasoning": "Trend intact; let the position run."',
    ),
    (
        "price 1248.9; 20-bar return -4.9%; RSI14 36; vs SMA50 -3.7%; vs SMA200 -0.8%; "
        "volatility 24%; position: long, unrealised -2.6%",
        'CLOSE", "size": 0, "stop_loss_pct": null, "take_profit_pct": null, '
        '"reasoning": "Broke below the 200-bar average; exit."',
    ),
    (
        "price 1466.1; 20-bar return +0.4%; RSI14 49; vs SMA50 -0.6%; vs SMA200 +3.2%; "
        "volatility 16%; position: none",
        'HOLD", "size": 0, "stop_loss_pct": null, "take_profit_pct": null, '
        '"reasoning": "No clear direction."',
    ),
    (
        "price 1533.0; 20-bar return +7.9%; RSI14 78; vs SMA50 +8.8%; vs SMA200 +15.5%; "
        "volatility 15%; position: long, unrealised +11.3%",
        'CLOSE", "size": 0, "stop_loss_pct": null, "take_profit_pct": null, '
        '"reasoning": "Stretched far above the averages; take the profit."',
    ),
)
_SHORT_EXAMPLE = (
    "price 1104.3; 20-bar return -7.2%; RSI14 31; vs SMA50 -6.9%; vs SMA200 -4.0%; "
    "volatility 28%; position: none",
    'SELL", "size": 0.3, "stop_loss_pct": 6, "take_profit_pct": 10, '
    '"reasoning": "Breakdown below both averages; short with a stop."',
)


def completion_header(settings: PromptSettings) -> str:
    """The document a base model continues: a title, the actions and worked examples."""
    sell = ", SELL opens a short" if settings.allow_short else ""
    examples = [*_EXAMPLES, _SHORT_EXAMPLE] if settings.allow_short else list(_EXAMPLES)
    lines = [
        "Trading journal of a disciplined trader. For each market context the trader writes one "
        f"JSON decision. BUY opens a long, HOLD does nothing, CLOSE exits the position{sell}.",
        "",
    ]
    for context, decision in examples:
        lines += [f"{CONTEXT}{context}", f"Decision: {DECISION_OPENER}{decision}}}", ""]
    return "\n".join(lines)


def _pct(x: float) -> str:
    return f"{x * 100:+.1f}%" if math.isfinite(x) else "n/a"


def context_line(snap: Snapshot, portfolio: PortfolioView, settings: PromptSettings) -> str:
    """One line of market context for ``snap.symbol`` (only data up to the decision bar)."""
    close = np.array(snap.window("close", 260), dtype=np.float64)
    price = float(close[-1])
    parts = [f"price {price:.6g}"]
    if len(close) > 20:
        parts.append(f"20-bar return {_pct(price / float(close[-21]) - 1)}")
    if len(close) > 14:
        parts.append(f"RSI14 {float(rsi(close, 14)[-1]):.0f}")
    for period in (50, 200):
        if len(close) >= period:
            parts.append(f"vs SMA{period} {_pct(price / float(sma(close, period)[-1]) - 1)}")
    if len(close) > 20:
        per_year = (
            252.0 if settings.interval_ns == DAY_NS else 365.25 * DAY_NS / settings.interval_ns
        )
        vol = float(np.std(np.diff(np.log(close[-21:])), ddof=1)) * math.sqrt(per_year)
        parts.append(f"volatility {vol * 100:.0f}%")
    pos = portfolio.position(snap.symbol)
    if pos is None or pos.qty == 0.0:
        parts.append("position: none")
    else:
        side = "long" if pos.qty > 0 else "short"
        unreal = (price / pos.avg_price - 1.0) * (1 if pos.qty > 0 else -1)
        parts.append(f"position: {side}, unrealised {_pct(unreal)}")
    return "; ".join(parts)


def allowed_actions(held: float, allow_short: bool) -> list[str]:
    """The actions that can change something, given the signed position ``held``."""
    if held == 0.0:
        return ["BUY", "SELL", "HOLD"] if allow_short else ["BUY", "HOLD"]
    if held > 0.0:
        return ["HOLD", "CLOSE", "SELL"] if allow_short else ["HOLD", "CLOSE"]
    return ["BUY", "HOLD", "CLOSE"]


def reference_contexts(position: str) -> list[str]:
    """Eight ordinary market contexts with the query's ``position`` state (the calibration set).

    Args:
        position: The position part of a context line (``none``, ``long, unrealised +1.0%``).
            Only its kind (none / long / short) is kept; the unrealised figure varies.
    """
    kind = position.split(",", 1)[0].strip() or "none"
    lines = []
    for ret, dist in _GRID:
        pos = "none" if kind == "none" else f"{kind}, unrealised {ret / 2:+.1f}%"
        lines.append(
            f"price {1200 + 40 * ret:.1f}; 20-bar return {ret:+.1f}%; RSI14 {50 + 3 * ret:.0f}; "
            f"vs SMA50 {dist:+.1f}%; vs SMA200 {2 * dist:+.1f}%; volatility {18 - ret:.0f}%; "
            f"position: {pos}"
        )
    return lines


def restrict_actions(schema: Mapping[str, Any], actions: Sequence[str]) -> dict[str, Any]:
    """A copy of the decision schema whose ``action`` enum is ``actions``."""
    props = dict(schema["properties"])
    props["action"] = {**props["action"], "enum": list(actions)}
    return {**schema, "properties": props}


def build_completion_prompt(
    snap: Snapshot,
    portfolio: PortfolioView,
    settings: PromptSettings,
    memory: Sequence[Situation] = (),
) -> Prompt:
    """The few-shot document (as ``system``) and today's context and opener (as ``user``).

    Recalled past situations (``memory``) go into ``user``, before today's context: the
    calibrated decoder measures its prior on ``system`` alone, so the memory's pull on the
    action is not divided out again.
    """
    times = snap.window("time", 1)
    data_time = int(times[-1]) if len(times) else snap.time
    recalled = memory_lines(memory, settings.interval_ns < DAY_NS)
    head = "\n".join(recalled) + "\n\n" if recalled else ""
    user = f"{head}{CONTEXT}{context_line(snap, portfolio, settings)}\nDecision: {DECISION_OPENER}"
    return Prompt(completion_header(settings), user, data_time, tuple(m.id for m in memory))
