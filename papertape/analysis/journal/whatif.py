"""What-if: a slot trades another slot's recorded decisions inside a time window.

:func:`what_if` replays a run twice from its journal (no model, no strategy is called): once
unchanged, once with ``swap={"A": "B"}`` limited to ``[start, end]``, where slot A is served
slot B's recorded decisions and, outside the window, its own. Because decisions are *target
positions* (long, short, flat), the mix is well defined: A keeps whatever position it held when
the window opens and B's next decision moves it. Costs, sizers and shields are the recorded ones.

A swap's right-hand side may also name a strategy to run *live* in A's slot inside the window
(:func:`live_target`): ``strategy:NAME`` (its default parameters) or ``config:PATH#SLOT`` (the
strategy and parameters of slot ``SLOT`` of a run config; ``#SLOT`` may be left out when the
config has one strategy or a slot named A). That strategy is built and decides for real on
every snapshot inside the window (an LLM trader calls its model, or its cache); outside the
window A replays its own recorded decisions, and A's sizer, shields and cash stay as recorded.

The answer holds the headline metrics of both replays per slot and, per swapped slot, the
round trips (``trade`` events) that only one of the two replays has.
"""

from __future__ import annotations

import tempfile
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from papertape.engine.errors import ConfigError
from papertape.engine.journal.jsonl import read_journal

__all__ = [
    "TradeRow",
    "WhatIf",
    "compare_trades",
    "live_target",
    "parse_when",
    "trades_of",
    "what_if",
]


@dataclass(frozen=True, slots=True)
class TradeRow:
    """One round trip as journaled (a ``trade`` event), the fields a comparison needs."""

    strategy: str
    symbol: str
    side: int
    qty: float
    entry_time: int
    exit_time: int
    entry_price: float
    exit_price: float
    pnl: float

    def key(self) -> tuple[Any, ...]:
        """Identity of the round trip, rounded so float noise does not count as a change."""
        return (
            self.strategy,
            self.symbol,
            self.side,
            round(self.qty, 9),
            self.entry_time,
            self.exit_time,
            round(self.entry_price, 9),
            round(self.exit_price, 9),
            round(self.pnl, 6),
        )


@dataclass(frozen=True, slots=True)
class WhatIf:
    """The answer of :func:`what_if`.

    Attributes:
        swap: Slot -> the recorded slot whose decisions it took.
        window: ``(start, end)`` in ns (None: open end).
        recorded: Headline metrics per slot of the unchanged replay.
        replayed: The same for the what-if replay.
        removed: Round trips of swapped slots that only the recorded run has.
        added: Round trips of swapped slots that only the what-if has.
        resized: ``(recorded, what-if)`` pairs of round trips with the same side, entry and
            exit times but another quantity or P&L (a sizer working from other equity).
        journal: The what-if replay's event log.
    """

    swap: dict[str, str]
    window: tuple[int | None, int | None]
    recorded: dict[str, dict[str, Any]]
    replayed: dict[str, dict[str, Any]]
    removed: tuple[TradeRow, ...]
    added: tuple[TradeRow, ...]
    resized: tuple[tuple[TradeRow, TradeRow], ...]
    journal: Path

    def difference(self, slot: str, metric: str) -> float:
        """What-if minus recorded for one slot's metric."""
        return float(self.replayed[slot][metric]) - float(self.recorded[slot][metric])


def parse_when(text: str | None, *, end: bool = False) -> int | None:
    """A ``--from``/``--to`` date (ISO, UTC unless it says otherwise) as ns since the epoch.

    A bare date (``2008-09-15``) means the start of that day, or with ``end=True`` its last
    nanosecond, so ``--to 2008-09-15`` includes that day.

    Raises:
        ConfigError: Not an ISO date or date-time.
    """
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError("--to" if end else "--from", text, "not an ISO date") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    ns = (when - epoch) // timedelta(microseconds=1) * 1000
    if end and len(text) == 10:
        ns += 86_400 * 10**9 - 1
    return ns


def live_target(slot: str, text: str) -> tuple[str, dict[str, Any]] | None:
    """``(strategy name, params)`` when a swap's right-hand side names a live strategy.

    Args:
        slot: The swapped slot (A of ``A=B``): the default slot to pick from a config.
        text: B: ``strategy:NAME``, ``config:PATH[#SLOT]``, or a recorded slot (None).

    Raises:
        ConfigError: A config that cannot be read, or no such slot in it.
    """
    kind, sep, rest = text.partition(":")
    if not sep or kind not in ("strategy", "config"):
        return None
    if kind == "strategy":
        if not rest:
            raise ConfigError("--swap", f"{slot}={text}", "name a strategy: strategy:NAME")
        return rest, {}
    path, _, wanted = rest.partition("#")
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError("--swap", f"{slot}={text}", f"cannot read the config: {exc}") from None
    entries = [e for e in raw.get("strategies", []) if isinstance(e, dict) and "name" in e]
    by_id = {str(e.get("id") or e["name"]): e for e in entries}
    pick = wanted or (slot if slot in by_id else "")
    if not pick and len(by_id) == 1:
        pick = next(iter(by_id))
    if pick not in by_id:
        raise ConfigError(
            "--swap", f"{slot}={text}", f"name one of its slots with #SLOT ({sorted(by_id)})"
        )
    entry = by_id[pick]
    return str(entry["name"]), dict(entry.get("params") or {})


def trades_of(log: Path, slots: set[str] | None = None) -> list[TradeRow]:
    """The ``trade`` events of a log (of ``slots`` only, when given)."""
    out = []
    for r in read_journal(log):
        if r.get("kind") != "trade" or (slots is not None and r["strategy"] not in slots):
            continue
        out.append(
            TradeRow(
                r["strategy"],
                r["symbol"],
                int(r["side"]),
                float(r["qty"]),
                int(r["entry_time"]),
                int(r["time"]),
                float(r["entry_price"]),
                float(r["exit_price"]),
                float(r["pnl"]),
            )
        )
    return out


def what_if(
    run_dir: str | Path,
    swap: dict[str, str],
    *,
    start: int | None = None,
    end: int | None = None,
    out: str | Path | None = None,
) -> WhatIf:
    """Replay a run with slot A trading slot B's decisions inside ``[start, end]``.

    Args:
        run_dir: The recorded run folder.
        swap: Slot -> recorded slot whose decisions it takes, or a live strategy
            (``strategy:NAME``, ``config:PATH#SLOT``; :func:`live_target`).
        start: First market time (ns) of the window, or None for the run's start.
        end: Last market time (ns) of the window, or None for the run's end.
        out: Folder for the what-if replay's journal (default: a temporary folder).

    Raises:
        ConfigError: No swap, a swap naming an unknown slot, or an empty window.
        JournalError: The folder cannot be replayed.
    """
    from papertape.engine.journal.replay.rerun import metrics_row, replay_run

    if not swap:
        raise ConfigError("--swap", swap, "name at least one A=B")
    if start is not None and end is not None and end < start:
        raise ConfigError("--to", end, "is before --from")
    live = {}
    recorded_swap = {}
    for a, b in swap.items():
        target = live_target(a, b)
        if target is None:
            recorded_swap[a] = b
        else:
            live[a] = target
    with tempfile.TemporaryDirectory(prefix="papertape-whatif-") as scratch:
        recorded = replay_run(run_dir, out=Path(scratch) / "recorded")
        before_trades = trades_of(recorded.journal, set(swap))
    replayed = replay_run(run_dir, swap=recorded_swap, window=(start, end), live=live, out=out)
    after_trades = trades_of(replayed.journal, set(swap))
    removed, added, resized = compare_trades(before_trades, after_trades)
    return WhatIf(
        dict(swap),
        (start, end),
        metrics_row(recorded.session),
        metrics_row(replayed.session),
        removed,
        added,
        resized,
        replayed.journal,
    )


def compare_trades(
    before: list[TradeRow], after: list[TradeRow]
) -> tuple[tuple[TradeRow, ...], tuple[TradeRow, ...], tuple[tuple[TradeRow, TradeRow], ...]]:
    """Split two lists of round trips into removed, added and resized ones.

    Identical round trips are left out. A round trip present in both with the same slot,
    symbol, side, entry and exit times but another quantity or P&L is *resized*; the rest are
    removed (only in ``before``) or added (only in ``after``).
    """
    before_keys = {t.key() for t in before}
    after_keys = {t.key() for t in after}
    gone = [t for t in before if t.key() not in after_keys]
    new = [t for t in after if t.key() not in before_keys]

    def timing(t: TradeRow) -> tuple[Any, ...]:
        return (t.strategy, t.symbol, t.side, t.entry_time, t.exit_time)

    new_by_timing: dict[tuple[Any, ...], list[TradeRow]] = {}
    for t in new:
        new_by_timing.setdefault(timing(t), []).append(t)
    resized = []
    removed = []
    for t in gone:
        match = new_by_timing.get(timing(t))
        if match:
            resized.append((t, match.pop(0)))
        else:
            removed.append(t)
    paired = {id(b) for _, b in resized}
    return tuple(removed), tuple(t for t in new if id(t) not in paired), tuple(resized)
