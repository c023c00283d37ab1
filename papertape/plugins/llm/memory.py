"""Memory for traders: the k past situations most like now, from earlier journals.

``memory = k`` on an LLM trader puts into its prompt the ``k`` decisions of earlier runs taken
in the market state most like the current one, each with what was decided and what followed.
``memory_from`` lists where those runs are: run folders (``journals/demo-e227e9785cd0``) or
folders holding run folders (``journals/memory``: every finished run under it). A run counts
when it finished (its journal has ``run_finished``) and its own data files still give its
journaled data hash (the closes are loaded through its ``config.json``, as ``journal stats``
does); any other folder is skipped and said so in :attr:`MemoryIndex.skipped`.

**A situation** is one decision of one slot on one symbol in such a run: a ``signal`` event, or
an LLM trader's valid ``llm_decision`` that held (no signal; a forced HOLD is left out). It is
described by :data:`FEATURES` (5- and 20-bar log return, 20-bar volatility of daily log
returns, distance to the 50-bar average; all scale-free, from closes up to the decision bar
only), the regime in force (``regime_changed``), and the slot's position when it decided
(-1, 0, 1).

**Its outcome** runs from the decision to the earlier of the slot's next decision on that
symbol and ``horizon`` bars later: the market's move (close to close) and what the decision
earned (mark to market, its own fills and fees included; docs/journal.md's attribution). The
outcome is *known* at the close of that last bar, and a situation is only ever recalled on a
bar at or after that time (``known <= snapshot time``), so nothing a run learnt later leaks
into an earlier decision, whichever run it came from.

**Similarity** is Euclidean distance over the features standardised by the mean and deviation
of the situations known by then (never by ones known later), plus 1 when both sides know their
regime and it differs. The index is built
once when the trader starts; a query is one ``searchsorted`` (situations are kept in order of
the time their outcome became known) and one distance over the known prefix.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from papertape.engine.errors import JournalError
from papertape.engine.journal.jsonl import read_journal

__all__ = [
    "FEATURES",
    "MemoryIndex",
    "Situation",
    "market_features",
    "memory_lines",
    "run_folders",
]

FEATURES = ("return_5", "return_20", "volatility_20", "vs_sma50")
MIN_BARS = 51  # closes needed for every feature (SMA50 and a 20-bar return)
REGIME_PENALTY = 1.0  # added to the distance when both regimes are known and differ


@dataclass(frozen=True, slots=True)
class Situation:
    """One past decision, the market state it was taken in and what followed.

    Attributes:
        id: ``<run folder name>#<seq>``: the journal event of the decision.
        run: The run folder's name.
        strategy: The slot that decided.
        symbol: The symbol decided on.
        time: The decision bar's time (ns).
        known: When the outcome was known: the time of the outcome's last bar (ns).
        features: Values of :data:`FEATURES` at the decision.
        regime: The regime in force, or None.
        position: The slot's position when it decided: -1, 0 or 1.
        decision: ``long``/``short``/``flat`` (a signal's target) or ``hold``.
        reason: The decision's stated reason (a signal's reason, an LLM's reasoning).
        bars: Bars the outcome spans.
        market_return: Close-to-close return over those bars.
        earned: The decision's mark-to-market P&L over them (fees included).
    """

    id: str
    run: str
    strategy: str
    symbol: str
    time: int
    known: int
    features: tuple[float, ...]
    regime: str | None
    position: int
    decision: str
    reason: str
    bars: int
    market_return: float
    earned: float


def market_features(closes: np.ndarray) -> tuple[float, ...] | None:
    """:data:`FEATURES` from closes ending at the decision bar (None: too little history)."""
    if len(closes) < MIN_BARS:
        return None
    c = np.asarray(closes[-MIN_BARS:], dtype=np.float64)
    if not np.all(c > 0.0):
        return None
    logs = np.log(c)
    steps = np.diff(logs[-21:])
    return (
        float(logs[-1] - logs[-6]),
        float(logs[-1] - logs[-21]),
        float(np.std(steps, ddof=1)),
        float(c[-1] / c[-50:].mean() - 1.0),
    )


def run_folders(sources: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Run folders named by ``memory_from``: each entry itself, or the run folders inside it."""
    out: list[Path] = []
    for src in sources:
        folder = Path(src).expanduser()
        if (folder / "events.jsonl").is_file():
            out.append(folder)
        elif folder.is_dir():
            out.extend(sorted(p for p in folder.iterdir() if (p / "events.jsonl").is_file()))
    return out


def _closes(folder: Path, data_hash: str | None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``symbol -> (times, closes)`` of a run's own data, as it ran (``[run]`` window applied)."""
    from papertape.analysis.journal.stats import closes_of
    from papertape.engine.journal.replay.resume import load_run
    from papertape.engine.session import data_hash as hash_of
    from papertape.engine.session import load_series, window_of

    config, manifest = load_run(folder)
    where = manifest.cwd if os.path.isdir(manifest.cwd) else os.getcwd()
    with contextlib.chdir(where):
        series, _ = window_of(config, load_series(config))
    if data_hash is None or hash_of(series) == data_hash:
        return {s.symbol: (np.asarray(s.time), np.asarray(s.close)) for s in series}
    return closes_of(folder, data_hash)  # raises JournalError when nothing matches


def _situations(
    folder: Path, records: Sequence[Mapping[str, Any]], horizon: int
) -> list[Situation]:
    started = next((r for r in records if r.get("kind") == "run_started"), {})
    closes = _closes(folder, started.get("data_hash"))
    decided: dict[tuple[str, str, int], Mapping[str, Any]] = {}
    fills: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    regimes: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for r in records:
        kind = r.get("kind")
        if kind == "signal" and r["symbol"] in closes:
            decided[(r["strategy"], r["symbol"], int(r["time"]))] = r
        elif (
            kind == "llm_decision"
            and r.get("action") == "HOLD"
            and r.get("reason_code", "ok") == "ok"  # a forced HOLD is no one's decision
            and r["symbol"] in closes
        ):
            decided.setdefault((r["strategy"], r["symbol"], int(r["time"])), r)
        elif kind == "fill":
            fills[(r["strategy"], r["symbol"])].append(r)
        elif kind == "regime_changed":
            regimes[r["symbol"]].append((int(r["time"]), str(r["regime"])))
    by_slot: dict[tuple[str, str], list[int]] = defaultdict(list)
    for sid, sym, t in decided:
        by_slot[(sid, sym)].append(t)
    out = []
    for (sid, sym), times in by_slot.items():
        times.sort()
        bar_times, px = closes[sym]
        own = fills[(sid, sym)]
        for n, t in enumerate(times):
            i = int(np.searchsorted(bar_times, t, side="right")) - 1
            feats = market_features(px[: i + 1]) if i >= 0 else None
            if feats is None:
                continue
            j = min(i + horizon, len(px) - 1)
            if n + 1 < len(times):
                j = min(j, int(np.searchsorted(bar_times, times[n + 1], side="right")) - 1)
            end = int(bar_times[j])
            held = sum(int(f["side"]) * float(f["qty"]) for f in own if int(f["time"]) <= t)
            inside = [f for f in own if t < int(f["time"]) <= end]
            after = held + sum(int(f["side"]) * float(f["qty"]) for f in inside)
            paid = sum(
                int(f["side"]) * float(f["qty"]) * float(f["price"]) + float(f["fee"])
                for f in inside
            )
            rec = decided[(sid, sym, t)]
            if rec["kind"] == "signal":
                decision, reason = str(rec["target"]), str(rec.get("reason") or "")
            else:
                decision = "hold"
                reason = str((rec.get("decision") or {}).get("reasoning") or "")
            regime = [lab for rt, lab in regimes.get(sym, ()) if rt <= t]
            out.append(
                Situation(
                    f"{folder.name}#{rec.get('seq', 0)}",
                    folder.name,
                    sid,
                    sym,
                    t,
                    end,
                    feats,
                    regime[-1] if regime else None,
                    int(np.sign(held)),
                    decision,
                    reason,
                    j - i,
                    float(px[j] / px[i] - 1.0),
                    after * float(px[j]) - held * float(px[i]) - paid + 0.0,
                )
            )
    return out


class MemoryIndex:
    """Past situations of earlier runs, queried by market state (see the module docs).

    Args:
        sources: ``memory_from``: run folders, or folders of run folders.
        horizon: Bars an outcome spans at most (it stops earlier at the slot's next decision).
    """

    def __init__(self, sources: Iterable[str | os.PathLike[str]], horizon: int = 20) -> None:
        self.skipped: dict[str, str] = {}
        found: list[Situation] = []
        for folder in run_folders(sources):
            try:
                records = list(read_journal(folder))
                if not any(r.get("kind") == "run_finished" for r in records):
                    self.skipped[str(folder)] = "the run has not finished"
                    continue
                found += _situations(folder, records, horizon)
            except (JournalError, OSError, ValueError) as exc:
                self.skipped[str(folder)] = str(exc)[:200]
        self._build(found)

    @classmethod
    def of(cls, situations: Iterable[Situation]) -> MemoryIndex:
        """An index over ``situations`` as they are (no journals read)."""
        index = cls(())
        index._build(list(situations))
        return index

    def _build(self, found: list[Situation]) -> None:
        found.sort(key=lambda s: (s.known, s.id))
        self.situations: tuple[Situation, ...] = tuple(found)
        self._known = np.array([s.known for s in found], dtype=np.int64)
        x = np.array([s.features for s in found], dtype=np.float64).reshape(-1, len(FEATURES))
        pos = np.array([float(s.position) for s in found]).reshape(-1, 1)
        self._x = np.hstack([x, pos])
        # Prefix sums: a query standardises by the situations it may see (known by then), so
        # not even the scale of the features comes from outcomes known later.
        zero = np.zeros((1, self._x.shape[1]))
        self._sum = np.vstack([zero, np.cumsum(self._x, axis=0)])
        self._sumsq = np.vstack([zero, np.cumsum(self._x * self._x, axis=0)])
        self._regimes = np.array([s.regime or "" for s in found], dtype=object)

    def __len__(self) -> int:
        return len(self.situations)

    def recall(
        self,
        k: int,
        now: int,
        features: Sequence[float],
        position: int,
        regime: str | None = None,
    ) -> list[Situation]:
        """The ``k`` situations most like the query whose outcome was known by ``now``.

        Args:
            k: How many.
            now: The deciding snapshot's time (ns): only outcomes known at or before it.
            features: :data:`FEATURES` of the current market.
            position: The trader's position in the symbol: -1, 0 or 1.
            regime: The regime in force now (None: not annotated).

        Returns:
            Most similar first (ties: the outcome known earlier first).
        """
        n = int(np.searchsorted(self._known, now, side="right"))
        if k <= 0 or n == 0:
            return []
        mean = self._sum[n] / n
        std = np.sqrt(np.maximum(self._sumsq[n] / n - mean * mean, 0.0))
        std = np.where(std > 1e-12, std, 1.0)
        z = (self._x[:n] - mean) / std
        q = (np.array([*features, float(position)]) - mean) / std
        dist = np.sqrt(((z - q) ** 2).sum(axis=1))
        if regime is not None:
            known = self._regimes[:n] != ""
            dist = dist + REGIME_PENALTY * (known & (self._regimes[:n] != regime))
        order = np.argsort(dist, kind="stable")[:k]
        return [self.situations[int(i)] for i in order]


def _pct(x: float) -> str:
    return f"{x * 100:+.1f}%" if math.isfinite(x) else "n/a"


def memory_lines(items: Sequence[Situation], intraday: bool = False) -> list[str]:
    """The memory section of a prompt (empty when nothing is recalled)."""
    if not items:
        return []
    lines = [
        "Similar past situations from earlier journals (most similar first), with what followed:"
    ]
    for n, s in enumerate(items, start=1):
        when = datetime.fromtimestamp(s.time / 1e9, tz=UTC)
        day = when.strftime("%Y-%m-%d %H:%M" if intraday else "%Y-%m-%d")
        r5, r20, vol, dist = s.features
        held = {1: "long", -1: "short"}.get(s.position, "none")
        regime = f", regime {s.regime}" if s.regime else ""
        why = s.reason.replace("\n", " ")[:80]
        lines.append(
            f"- [m{n}] {day} {s.symbol}: 5-bar return {_pct(math.expm1(r5))}, 20-bar return "
            f"{_pct(math.expm1(r20))}, daily volatility {vol * 100:.2f}%, vs SMA50 {_pct(dist)}"
            f"{regime}, position {held} -> {s.strategy} decided {s.decision}"
            f"{f' ({why})' if why else ''}; over the next {s.bars} bars the price moved "
            f"{_pct(s.market_return)} and the decision earned {s.earned:+,.2f}."
        )
    return lines
