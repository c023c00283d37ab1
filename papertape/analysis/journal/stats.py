"""``papertape journal stats``: where a run's P&L came from, read from its journal alone.

Every figure is computed from the run folder's ``events.jsonl`` (and, for decision attribution,
the closes of the run's own data, loaded through its ``config.json`` and checked against the
journaled data hash):

* **Round trips** (``trade`` events, P&L net of fees) grouped by trader (slot), action (the
  side of the round trip: ``long``/``short``), symbol, regime (the ``regime_changed`` label in
  force for the symbol at the trade's entry), and UTC hour and weekday of the closing fill.
* **Decision attribution.** For a slot and symbol, let the decisions (``signal`` events) be at
  times ``t_1 < ... < t_n`` and let ``t_{n+1}`` be the run's last bar. ``q(t)`` is the slot's
  position after every fill at ``t`` and ``P(t)`` the close of the bar at ``t``. Decision ``i``
  *earned* ``q(t_{i+1}) P(t_{i+1}) - q(t_i) P(t_i) - sum(side*qty*price + fee)`` over the fills in
  ``(t_i, t_{i+1}]`` (the mark-to-market P&L from the decision to the next, its own fills and
  fees included), and *holding* would have earned ``q(t_i) (P(t_{i+1}) - P(t_i))`` (the position
  held when it decided, kept unchanged, no costs). Its **edge** is earned minus holding: what the
  decision added over doing nothing. Several decisions on one bar count as one (the last).
* **Calibration** of LLM decisions: the stated ``confidence`` of each decision that opened a
  trade against whether that trade (all its ``llm_outcome`` records summed) made money: Brier
  score, expected calibration error and a reliability table.
* **Reasoning length vs outcome**: those LLM decisions in up to three bands of reasoning
  length (cut at its terciles; equal lengths share a band) with wins and summed outcome P&L.
* **Invalid decisions** (``llm_decision`` with a reason code other than ``ok``) by reason code
  and by month; decisions that recalled memories (``memory = k``) and how many, per slot;
  **shield trips** and **vetoes** by slot and shield, and what each veto and
  each halt's cut saved or cost over what followed (:mod:`analysis.journal.shields`).
"""

from __future__ import annotations

import contextlib
import os
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from papertape.analysis.calibration import (
    brier_score,
    expected_calibration_error,
    reliability_table,
)
from papertape.analysis.journal.shields import ShieldEffect, saved_by_shield, shield_effects
from papertape.engine.errors import JournalError
from papertape.engine.feeds.base import BarSeries
from papertape.engine.journal.jsonl import read_journal

__all__ = ["Attribution", "Calibration", "Group", "JournalStats", "closes_of", "journal_stats"]

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(slots=True)
class Group:
    """Round trips sharing a key: how many, how many won, their summed net P&L."""

    trades: int = 0
    wins: int = 0
    pnl: float = 0.0

    def add(self, pnl: float) -> None:
        """Count one round trip."""
        self.trades += 1
        self.wins += pnl > 0
        self.pnl += pnl


@dataclass(frozen=True, slots=True)
class Attribution:
    """One decision's P&L against holding the previous position (see the module docs)."""

    strategy: str
    symbol: str
    time: int
    target: str
    reason: str
    held: float
    earned: float
    holding: float

    @property
    def edge(self) -> float:
        """Earned minus holding: what the decision added over doing nothing."""
        return self.earned - self.holding


@dataclass(frozen=True, slots=True)
class Calibration:
    """Stated confidence against realised outcome for one LLM slot."""

    decisions: int
    brier: float
    ece: float
    table: list[dict[str, Any]]


@dataclass(slots=True)
class JournalStats:
    """Everything ``journal stats`` reports; ``to_json()`` gives plain data."""

    by: dict[str, dict[str, Group]] = field(default_factory=dict)
    attribution: list[Attribution] = field(default_factory=list)
    calibration: dict[str, Calibration] = field(default_factory=dict)
    invalid: dict[str, dict[str, int]] = field(default_factory=dict)
    invalid_by_month: dict[str, dict[str, int]] = field(default_factory=dict)
    reasoning_length: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    attribution_note: str | None = None
    shield_trips: dict[str, int] = field(default_factory=dict)
    vetoes: dict[str, int] = field(default_factory=dict)
    shield_effects: list[ShieldEffect] = field(default_factory=list)
    memory: dict[str, dict[str, int]] = field(default_factory=dict)

    def shield_saved(self) -> dict[str, dict[str, float]]:
        """Per ``"<slot or *> <shield>"``: vetoes, cuts and what they saved (cost < 0)."""
        return saved_by_shield(self.shield_effects)

    def edge_by_strategy(self) -> dict[str, dict[str, float]]:
        """Summed earned, holding and edge of the decisions, per slot."""
        out: dict[str, dict[str, float]] = {}
        for a in self.attribution:
            row = out.setdefault(
                a.strategy, {"decisions": 0, "earned": 0.0, "holding": 0.0, "edge": 0.0}
            )
            row["decisions"] += 1
            row["earned"] += a.earned
            row["holding"] += a.holding
            row["edge"] += a.edge
        return out

    def to_json(self) -> dict[str, Any]:
        """Plain data (dicts, lists, numbers, strings) for ``--json``."""
        return {
            "pnl_by": {dim: {k: asdict(g) for k, g in gs.items()} for dim, gs in self.by.items()},
            "attribution": [asdict(a) | {"edge": a.edge} for a in self.attribution],
            "edge_by_strategy": self.edge_by_strategy(),
            "calibration": {k: asdict(c) for k, c in self.calibration.items()},
            "invalid": self.invalid,
            "invalid_by_month": self.invalid_by_month,
            "reasoning_length": self.reasoning_length,
            "attribution_note": self.attribution_note,
            "shield_trips": self.shield_trips,
            "vetoes": self.vetoes,
            "shield_effects": [asdict(e) | {"saved": e.saved} for e in self.shield_effects],
            "shield_saved": self.shield_saved(),
            "memory": self.memory,
        }


def _utc(ns: int) -> datetime:
    return datetime.fromtimestamp(ns // 10**9, UTC)


def closes_of(
    run_dir: Path, data_hash: str | None, span: tuple[int, int] | None = None
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``symbol -> (bar times, closes)`` of a run's own data, loaded through its config.

    The data must give the journaled data hash: as loaded, or cut to ``span`` (the first and
    last market time of the journal), which is what an arena window's folder records.

    Raises:
        JournalError: Neither gives the recorded data (changed files, a blind tape).
    """
    from papertape.analysis.lookahead import cut_series
    from papertape.engine.journal.replay.resume import load_run
    from papertape.engine.session import data_hash as hash_of
    from papertape.engine.session import load_series

    config, manifest = load_run(run_dir)
    where = manifest.cwd if os.path.isdir(manifest.cwd) else os.getcwd()
    with contextlib.chdir(where):
        series = load_series(config)
    if data_hash is not None and hash_of(series) != data_hash:
        cut = [] if span is None else _from(cut_series(series, span[1]), span[0])
        if not cut or hash_of(cut) != data_hash:
            raise JournalError(
                f"{run_dir}: the run's data files do not give the recorded data (changed since, "
                "or a blind arena tape), so decisions cannot be marked to market"
            )
        series = cut
    return {s.symbol: (np.asarray(s.time), np.asarray(s.close)) for s in series}


def _from(series: Sequence[BarSeries], start: int) -> list[BarSeries]:
    out = []
    for s in series:
        i = int(np.searchsorted(s.time, start, side="left"))
        if i < len(s):
            out.append(
                BarSeries(
                    s.symbol,
                    s.time[i:],
                    s.open[i:],
                    s.high[i:],
                    s.low[i:],
                    s.close[i:],
                    s.volume[i:],
                    s.source,
                    s.rejections,
                )
            )
    return out


def _price(closes: tuple[np.ndarray, np.ndarray], t: int) -> float:
    times, px = closes
    i = int(np.searchsorted(times, t, side="right")) - 1
    return float(px[max(i, 0)])


def _attribute(
    records: Sequence[Mapping[str, Any]], closes: Mapping[str, tuple[np.ndarray, np.ndarray]]
) -> list[Attribution]:
    end = max(int(r.get("time", 0)) for r in records)
    decisions: dict[tuple[str, str], dict[int, Mapping[str, Any]]] = defaultdict(dict)
    fills: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for r in records:
        if r["kind"] == "signal" and r["symbol"] in closes:
            decisions[(r["strategy"], r["symbol"])][int(r["time"])] = r
        elif r["kind"] == "fill":
            fills[(r["strategy"], r["symbol"])].append(r)
    out = []
    for (sid, sym), by_time in decisions.items():
        times = sorted(by_time)
        own = fills[(sid, sym)]
        for i, t in enumerate(times):
            nxt = times[i + 1] if i + 1 < len(times) else end
            held = sum(int(f["side"]) * float(f["qty"]) for f in own if int(f["time"]) <= t)
            inside = [f for f in own if t < int(f["time"]) <= nxt]
            after = held + sum(int(f["side"]) * float(f["qty"]) for f in inside)
            p0, p1 = _price(closes[sym], t), _price(closes[sym], nxt)
            paid = sum(
                int(f["side"]) * float(f["qty"]) * float(f["price"]) + float(f["fee"])
                for f in inside
            )
            rec = by_time[t]
            out.append(
                Attribution(
                    sid,
                    sym,
                    t,
                    str(rec["target"]),
                    str(rec["reason"]),
                    held,
                    after * p1 - held * p0 - paid,
                    held * (p1 - p0) + 0.0,  # no -0.0 for a flat book
                )
            )
    out.sort(key=lambda a: (a.time, a.strategy, a.symbol))
    return out


def _reasoning_length(
    records: Iterable[Mapping[str, Any]], groups: int = 3
) -> dict[str, list[dict[str, Any]]]:
    """Per LLM slot, its decisions with a known outcome in ``groups`` bands of reasoning length.

    Bands are cut at length quantiles (equal lengths share a band), shortest first:
    ``shortest``/``longest`` reasoning length in characters, ``decisions``, ``wins`` and summed
    outcome ``pnl``.
    """
    length: dict[str, tuple[str, int]] = {}
    pnl: dict[str, float] = defaultdict(float)
    for r in records:
        if r["kind"] == "llm_decision" and r.get("decision"):
            length[r["decision_id"]] = (r["strategy"], len(r["decision"].get("reasoning") or ""))
        elif r["kind"] == "llm_outcome":
            pnl[r["decision_id"]] += float(r["pnl"])
    per_slot: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for did, (sid, n) in length.items():
        if did in pnl:
            per_slot[sid].append((n, pnl[did]))
    out: dict[str, list[dict[str, Any]]] = {}
    for sid, rows in per_slot.items():
        lengths = np.array([n for n, _ in rows], dtype=float)
        # Cut at length quantiles, so equal lengths always share a band.
        cuts = np.unique(np.quantile(lengths, [k / groups for k in range(1, groups)]))
        bands: dict[int, list[tuple[int, float]]] = defaultdict(list)
        for n, p in rows:
            bands[int(np.searchsorted(cuts, n, side="left"))].append((n, p))
        out[sid] = [
            {
                "shortest": min(n for n, _ in chunk),
                "longest": max(n for n, _ in chunk),
                "decisions": len(chunk),
                "wins": sum(1 for _, p in chunk if p > 0),
                "pnl": sum(p for _, p in chunk),
            }
            for _, chunk in sorted(bands.items())
        ]
    return out


def _calibration(records: Iterable[Mapping[str, Any]], bins: int) -> dict[str, Calibration]:
    stated: dict[str, tuple[str, float]] = {}
    pnl: dict[str, float] = defaultdict(float)
    for r in records:
        if r["kind"] == "llm_decision":
            conf = (r.get("decision") or {}).get("confidence")
            if r.get("reason_code") == "ok" and isinstance(conf, int | float):
                stated[r["decision_id"]] = (r["strategy"], float(conf))
        elif r["kind"] == "llm_outcome":
            pnl[r["decision_id"]] += float(r["pnl"])
    per_slot: dict[str, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    for did, (sid, conf) in stated.items():
        if did in pnl:
            per_slot[sid][0].append(conf)
            per_slot[sid][1].append(1.0 if pnl[did] > 0 else 0.0)
    return {
        sid: Calibration(
            len(p),
            brier_score(p, o),
            expected_calibration_error(p, o, bins),
            [asdict(b) for b in reliability_table(p, o, bins)],
        )
        for sid, (p, o) in per_slot.items()
    }


def journal_stats(
    run_dir: str | Path,
    *,
    attribute: bool = True,
    bins: int = 10,
    start: int | None = None,
    end: int | None = None,
) -> JournalStats:
    """Read a run folder's journal and compute what ``journal stats`` reports.

    Args:
        run_dir: The run folder.
        attribute: Compute decision attribution (needs the run's data files).
        bins: Reliability table bins.
        start: Only events at or after this market time (ns); round trips count by their
            closing time, decisions by theirs (each still measured to its next decision, which
            may lie after ``end``). Positions are always rebuilt from the whole journal.
        end: Only events at or before this market time (ns).

    Raises:
        JournalError: Not a run folder. (Data that no longer matches the recording leaves
            the attribution empty, with the reason in ``attribution_note``.)
    """
    folder = Path(run_dir)
    if not (folder / "events.jsonl").is_file():
        raise JournalError(f"{folder} is not a run folder (no events.jsonl)")
    records = list(read_journal(folder))
    stats = JournalStats()
    regimes: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for r in records:
        if r["kind"] == "regime_changed":
            regimes[r["symbol"]].append((int(r["time"]), str(r["regime"])))
    dims = ("trader", "action", "symbol", "regime", "hour", "weekday")
    by: dict[str, dict[str, Group]] = {d: defaultdict(Group) for d in dims}
    invalid: dict[str, Counter[str]] = defaultdict(Counter)
    monthly: dict[str, Counter[str]] = defaultdict(Counter)
    trips: Counter[str] = Counter()
    vetoes: Counter[str] = Counter()
    memory: dict[str, dict[str, int]] = {}
    recalled: dict[str, set[str]] = defaultdict(set)

    def inside(r: Mapping[str, Any]) -> bool:
        t = int(r.get("time") or 0)
        return (start is None or t >= start) and (end is None or t <= end)

    window = [r for r in records if inside(r)]
    for r in window:
        kind = r["kind"]
        if kind == "trade":
            pnl, closed = float(r["pnl"]), _utc(int(r["time"]))
            changes = [lab for t, lab in regimes.get(r["symbol"], ()) if t <= int(r["entry_time"])]
            keys = {
                "trader": r["strategy"],
                "action": "long" if int(r["side"]) > 0 else "short",
                "symbol": r["symbol"],
                "regime": changes[-1] if changes else "unknown",
                "hour": f"{closed.hour:02d}",
                "weekday": WEEKDAYS[closed.weekday()],
            }
            for dim, key in keys.items():
                by[dim][key].add(pnl)
        elif kind == "llm_decision" and r.get("reason_code", "ok") != "ok":
            invalid[r["strategy"]][r["reason_code"]] += 1
            monthly[_utc(int(r["time"])).strftime("%Y-%m")][r["reason_code"]] += 1
        elif kind == "llm_decision" and r.get("memory"):
            used = memory.setdefault(r["strategy"], {"decisions": 0, "recalled": 0})
            used["decisions"] += 1
            used["recalled"] += len(r["memory"])
            recalled[r["strategy"]].update(r["memory"])
        elif kind == "shield_tripped":
            trips[f"{r['strategy']} {r['shield']} {r['state']}"] += 1
        elif kind == "veto":
            vetoes[f"{r['strategy']} {r['shield']}"] += 1
    stats.by = {d: dict(sorted(g.items())) for d, g in by.items()}
    stats.invalid = {k: dict(v) for k, v in invalid.items()}
    stats.invalid_by_month = {k: dict(v) for k, v in sorted(monthly.items())}
    stats.shield_trips, stats.vetoes = dict(trips), dict(vetoes)
    stats.memory = {k: v | {"distinct": len(recalled[k])} for k, v in sorted(memory.items())}
    decided = [r for r in records if r["kind"] == "llm_outcome" or inside(r)]
    stats.calibration = _calibration(decided, bins)
    stats.reasoning_length = _reasoning_length(decided)
    if attribute:
        started = next((r for r in records if r["kind"] == "run_started"), {})
        span = (int(started.get("time", 0)), max(int(r.get("time") or 0) for r in records))
        try:
            closes = closes_of(folder, started.get("data_hash"), span)
        except JournalError as exc:
            stats.attribution_note = f"no decision attribution: {exc}"
        else:
            attributed = _attribute(records, closes)
            stats.attribution = [a for a in attributed if inside({"time": a.time})]
            effects = shield_effects(records, closes)
            stats.shield_effects = [e for e in effects if inside({"time": e.time})]
    return stats
