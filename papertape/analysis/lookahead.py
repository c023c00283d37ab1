"""Look-ahead audit: does any decision up to a bar change when the data after it is cut off?

:func:`audit_lookahead` runs a config once on all its data and records, per slot and bar, what
each strategy decided: its ``signal`` events (every field), its failures (``strategy_failed``)
and, for an LLM trader, the hash of the prompt it was shown (``llm_decision.prompt_hash``). A
bar where it decided *nothing* is recorded as silence. Then, for each of ``points`` sampled cut
times, it runs again on the data up to and including the cut (every symbol, every bar after it
removed) and compares every bar up to the cut: a decision that was not there, one that is gone
or one that changed means the strategy used data from after its bar. Silence that turns into a
decision counts as much as a decision that changes (a check of traded bars alone misses it).

Only what the engine hands the strategy is cut: a strategy that reads data by itself (its own
copy of the file, the network) is not covered. No journal is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

import numpy as np

from papertape.engine.errors import ConfigError
from papertape.engine.feeds.base import BarSeries
from papertape.engine.hookspecs import hookimpl

if TYPE_CHECKING:
    from papertape.engine.config import RunConfig
    from papertape.engine.events import Event

__all__ = ["DecisionLog", "LookaheadFinding", "LookaheadReport", "audit_lookahead", "cut_series"]

Key = tuple[str, int, str]  # (slot, bar time, bar symbol)
_DROP = ("kind", "seq", "time", "strategy", "bar_symbol", "symbol")


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


class DecisionLog:
    """An event consumer keeping what each slot decided on each bar."""

    def __init__(self) -> None:
        self.decisions: dict[Key, list[tuple[Any, ...]]] = {}

    @hookimpl
    def papertape_events(self, events: Sequence[Event]) -> None:
        """Keep signals, strategy failures and LLM prompt hashes, keyed by slot and bar."""
        for event in events:
            kind = event.kind
            if kind not in ("signal", "strategy_failed", "llm_decision"):
                continue
            rec = event.record()
            if kind == "llm_decision":
                fact: tuple[Any, ...] = (kind, rec["prompt_hash"])
            else:
                fact = (kind, *sorted((k, _plain(v)) for k, v in rec.items() if k not in _DROP))
            bar = rec.get("bar_symbol") or rec.get("symbol") or ""
            key = (str(rec["strategy"]), int(rec["time"]), str(bar))
            self.decisions.setdefault(key, []).append(fact)


@dataclass(frozen=True, slots=True)
class LookaheadFinding:
    """The first bar whose decision changed when the data was cut.

    Attributes:
        cut: The cut time (ns): the last bar the shortened run saw.
        strategy: Slot id.
        time: The differing bar's time (ns).
        symbol: Its symbol.
        full: What the slot decided there on all the data (empty: nothing).
        cut_run: What it decided there on the data cut at ``cut`` (empty: nothing).
        bar: The bar's open, high, low, close and volume (its inputs).
    """

    cut: int
    strategy: str
    time: int
    symbol: str
    full: list[tuple[Any, ...]]
    cut_run: list[tuple[Any, ...]]
    bar: dict[str, float]


@dataclass(frozen=True, slots=True)
class LookaheadReport:
    """Result of an audit: ``clean`` when no sampled cut changed any decision."""

    cuts: list[int]
    bars_checked: int
    findings: list[LookaheadFinding] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """No decision changed at any cut."""
        return not self.findings


def cut_series(series: Sequence[BarSeries], cut: int) -> list[BarSeries]:
    """Every series without its bars after ``cut`` (ns); symbols left with no bar are dropped."""
    out = []
    for s in series:
        n = int(np.searchsorted(s.time, cut, side="right"))
        if n:
            out.append(
                BarSeries(
                    s.symbol,
                    s.time[:n],
                    s.open[:n],
                    s.high[:n],
                    s.low[:n],
                    s.close[:n],
                    s.volume[:n],
                    s.source,
                    s.rejections,
                )
            )
    return out


def _run(config: RunConfig, series: Sequence[BarSeries]) -> DecisionLog:
    from papertape.engine.session import run_session

    log = DecisionLog()
    run_session(config, series, journal=False, extra_plugins=[log])
    return log


def _bar(series: Sequence[BarSeries], symbol: str, t: int) -> dict[str, float]:
    for s in series:
        if s.symbol == symbol:
            i = int(np.searchsorted(s.time, t, side="left"))
            if i < len(s) and int(s.time[i]) == t:
                return {
                    c: float(getattr(s, c)[i]) for c in ("open", "high", "low", "close", "volume")
                }
    return {}


def _first_difference(
    full: Mapping[Key, list[tuple[Any, ...]]], cut: Mapping[Key, list[tuple[Any, ...]]], until: int
) -> Key | None:
    keys = sorted(
        {k for k in full if k[1] <= until} | {k for k in cut if k[1] <= until},
        key=lambda k: (k[1], k[0], k[2]),
    )
    for key in keys:
        if full.get(key, []) != cut.get(key, []):
            return key
    return None


def audit_lookahead(
    config: RunConfig,
    *,
    points: int = 8,
    seed: int = 0,
    series: Sequence[BarSeries] | None = None,
) -> LookaheadReport:
    """Re-run ``config`` with its data cut at ``points`` sampled bars; compare every decision.

    Args:
        config: The run config (its journal is not written).
        points: How many cut times to sample (from the bars after the first tenth of the data,
            the last bar excluded: cutting there removes nothing).
        seed: Seed of the sample.
        series: The data (default: the config's files, cut to its ``[run]`` window).

    Raises:
        ConfigError: ``points`` < 1 or too little data to cut.
    """
    from papertape.engine.session import load_series, window_of

    if points < 1:
        raise ConfigError("--points", points, "must be >= 1")
    data, _ = window_of(config, series if series is not None else load_series(config))
    times = np.unique(np.concatenate([np.asarray(s.time) for s in data]))
    candidates = times[len(times) // 10 : -1]
    if not len(candidates):
        raise ConfigError("data", len(times), "too few bars to cut (need at least 2)")
    rng = np.random.default_rng(seed)
    picks = rng.choice(candidates, size=min(points, len(candidates)), replace=False)
    cuts = sorted(int(t) for t in picks)
    full = _run(config, data).decisions
    findings = []
    bars = 0
    for cut in cuts:
        shortened = cut_series(data, cut)
        bars += int(sum(np.searchsorted(s.time, cut, side="right") for s in data))
        got = _run(config, shortened).decisions
        key = _first_difference(full, got, cut)
        if key is not None:
            sid, t, sym = key
            findings.append(
                LookaheadFinding(
                    cut, sid, t, sym, full.get(key, []), got.get(key, []), _bar(data, sym, t)
                )
            )
    return LookaheadReport(cuts, bars, findings)
