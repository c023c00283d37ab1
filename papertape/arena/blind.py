"""Blind mode: the same tape with its identity removed, so a model cannot recall what came next.

Three changes, nothing else:

- **prices rebased**: every OHLC column of a symbol is multiplied by one factor so that its
  first close is 100 (returns, ratios and every scale-free indicator are unchanged);
- **dates shifted**: every timestamp moves by the same whole number of weeks so the data
  starts in :data:`BLIND_YEAR` (weekdays, bar spacing and time of day are kept);
- **ticker hidden**: symbols become ``ASSET`` (``ASSET1``, ``ASSET2``, ... for several), in the
  data and in the strategies' ``symbols`` lists, so no prompt ever names the instrument.

Volumes are left alone. Scale-free strategies (moving-average crossovers, momentum, the
baselines) therefore trade identically blind and not blind; only a trader that uses its memory
of the market can behave differently — which is what the comparison is meant to expose.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from papertape.engine.feeds.base import BarSeries

if TYPE_CHECKING:
    from papertape.engine.config import RunConfig

__all__ = ["BLIND_YEAR", "BlindTape", "blind_config", "blind_series"]

BLIND_YEAR = 2200  # far from any training data, inside the int64-nanosecond range
WEEK_NS = 7 * 86_400 * 10**9
REBASE_TO = 100.0


@dataclass(frozen=True, slots=True)
class BlindTape:
    """Blinded series and how they map back to the originals."""

    series: list[BarSeries]
    aliases: dict[str, str]  # real symbol -> alias
    scale: dict[str, float]  # alias -> price factor
    shift_ns: int


def _shift_for(first: int) -> int:
    target = int(datetime(BLIND_YEAR, 1, 1, tzinfo=UTC).timestamp()) * 10**9
    weeks = -(-(target - first) // WEEK_NS)  # round up: the tape starts in BLIND_YEAR
    return int(weeks * WEEK_NS)


def blind_series(series: Sequence[BarSeries]) -> BlindTape:
    """Rebase, shift and rename every series (see the module docstring)."""
    names = [s.symbol for s in series]
    aliases = {n: "ASSET" if len(names) == 1 else f"ASSET{i + 1}" for i, n in enumerate(names)}
    first = min(int(s.time[0]) for s in series if len(s))
    shift = _shift_for(first)
    out, scale = [], {}
    for s in series:
        alias = aliases[s.symbol]
        k = REBASE_TO / float(s.close[0]) if len(s) else 1.0
        scale[alias] = k
        out.append(
            BarSeries.from_arrays(
                alias,
                s.time + shift,
                s.open * k,
                s.high * k,
                s.low * k,
                s.close * k,
                s.volume,
                "blind",
            )
        )
    return BlindTape(out, aliases, scale, shift)


def blind_config(config: RunConfig, aliases: Mapping[str, str]) -> RunConfig:
    """The config with every strategy's ``symbols`` list written in aliases."""
    strategies = [
        sc.model_copy(update={"symbols": [aliases.get(x, x) for x in sc.symbols]})
        if sc.symbols
        else sc
        for sc in config.strategies
    ]
    return config.model_copy(update={"strategies": strategies})
