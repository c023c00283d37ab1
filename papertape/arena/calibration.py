"""Stated confidence against what happened: the outcome of each directional LLM decision.

**Outcome.** A valid BUY says "up", a valid SELL says "down" (whether it closes a long or opens
a short, the model has said it expects the price to fall). The decision was *right* when the
close ``horizon`` bars after the decision bar is on the side the decision named (strictly; an
unchanged close counts as wrong). HOLD, CLOSE, invalid answers and decisions with fewer than
``horizon`` bars after them in the window make no directional claim that can be checked and
are left out. Stated ``confidence`` is read as the probability of being right.

The scores (Brier score, expected calibration error, the reliability table) come from
:mod:`papertape.analysis.calibration`; when that module is not installed the figures are None.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from papertape.engine.feeds.base import BarSeries

__all__ = ["CalibrationScore", "decision_outcomes", "score_calibration"]

DIRECTION = {"BUY": 1, "SELL": -1}


def decision_outcomes(
    decisions: Sequence[Mapping[str, Any]],
    series: Mapping[str, BarSeries],
    horizon: int,
) -> tuple[list[float], list[int]]:
    """Stated confidences and realised outcomes (1 right, 0 wrong) of directional decisions."""
    probs: list[float] = []
    hits: list[int] = []
    for d in decisions:
        parsed = d.get("decision")
        if d.get("reason_code") != "ok" or not parsed:
            continue
        sign = DIRECTION.get(str(parsed.get("action")))
        conf = parsed.get("confidence")
        s = series.get(str(d.get("symbol")))
        if sign is None or conf is None or s is None:
            continue
        i = int(np.searchsorted(s.time, int(d["time"]), side="left"))
        if i >= len(s) or int(s.time[i]) != int(d["time"]) or i + horizon >= len(s):
            continue
        move = float(s.close[i + horizon]) / float(s.close[i]) - 1.0
        probs.append(float(conf))
        hits.append(1 if sign * move > 0 else 0)
    return probs, hits


@dataclass(frozen=True, slots=True)
class CalibrationScore:
    """Calibration of one trader's stated confidence."""

    n: int
    mean_confidence: float | None
    hit_rate: float | None
    brier: float | None
    ece: float | None
    bins: list[dict[str, Any]]


def score_calibration(
    probs: Sequence[float], hits: Sequence[int], bins: int = 10
) -> CalibrationScore:
    """Brier score, ECE and reliability bins (None where there is nothing to score)."""
    n = len(probs)
    if n == 0:
        return CalibrationScore(0, None, None, None, None, [])
    mean_conf = float(np.mean(probs))
    hit_rate = float(np.mean(hits))
    try:
        import papertape.analysis.calibration as cal
    except ImportError:  # the statistics library is an optional part
        return CalibrationScore(n, mean_conf, hit_rate, None, None, [])
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(hits, dtype=np.float64)
    table = cal.reliability_table(p, y, bins=bins)
    return CalibrationScore(
        n,
        mean_conf,
        hit_rate,
        float(cal.brier_score(p, y)),
        float(cal.expected_calibration_error(p, y, bins=bins)),
        _rows(table),
    )


def _clean(v: Any) -> Any:
    if isinstance(v, bool):
        return v
    if isinstance(v, int | np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        x = float(v)
        return x if np.isfinite(x) else None
    return v


def _rows(table: Any) -> list[dict[str, Any]]:
    """Reliability bins as plain dicts, whatever container the library returns."""
    if hasattr(table, "to_dict"):
        table = table.to_dict("records")
    out = []
    for row in table:
        if hasattr(row, "_asdict"):
            row = row._asdict()
        elif not isinstance(row, Mapping):
            row = {f: getattr(row, f) for f in getattr(row, "__slots__", ())}
        out.append({str(k): _clean(v) for k, v in row.items()})
    return out
