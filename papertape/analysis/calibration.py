"""Is a trader's stated confidence worth anything? Brier score, ECE and a reliability table.

An LLM trader states a confidence with each decision; once the outcome is known (the trade made
money, the call was right) the pairs ``(confidence, outcome)`` say whether 70 % confidence
means right 70 % of the time.

* :func:`brier_score` — mean squared gap between confidence and outcome (0 is perfect; always
  saying 0.5 scores 0.25). It mixes calibration with sharpness.
* :func:`expected_calibration_error` — the count-weighted mean gap between mean confidence and
  hit rate over equal-width confidence bins (Naeini, Cooper and Hauskrecht 2015; Guo et al.
  2017). 0 is perfectly calibrated; it ignores sharpness, and with few decisions per bin it is
  biased upwards.
* :func:`reliability_table` — the bins behind the ECE, for a reliability chart.

Bins are ``[0, 1/B), [1/B, 2/B), …, [(B-1)/B, 1]``: the last one includes 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from papertape.engine.errors import ConfigError, DataError

__all__ = [
    "ReliabilityBin",
    "brier_score",
    "expected_calibration_error",
    "reliability_table",
]


@dataclass(frozen=True, slots=True)
class ReliabilityBin:
    """One confidence bin of a reliability table.

    Attributes:
        lower: Lower edge of the bin (included).
        upper: Upper edge (excluded, except 1.0 for the last bin).
        count: Decisions whose confidence fell in the bin.
        mean_confidence: Their mean stated confidence; None for an empty bin.
        hit_rate: Share of them whose outcome was positive; None for an empty bin.
    """

    lower: float
    upper: float
    count: int
    mean_confidence: float | None
    hit_rate: float | None


def brier_score(probs: ArrayLike, outcomes: ArrayLike) -> float:
    """Mean of ``(confidence - outcome)²``.

    Args:
        probs: Stated probabilities (confidences) in [0, 1].
        outcomes: Realised outcomes, 1 (or True) where the event happened, else 0.

    Returns:
        The Brier score in [0, 1].

    Raises:
        DataError: If the inputs are empty, of different lengths, or out of range.
    """
    p, o = _pairs(probs, outcomes)
    return float(np.mean((p - o) ** 2))


def expected_calibration_error(probs: ArrayLike, outcomes: ArrayLike, bins: int = 10) -> float:
    """Count-weighted mean of ``|mean confidence - hit rate|`` over equal-width bins.

    Args:
        probs: Stated probabilities in [0, 1].
        outcomes: Realised outcomes (0/1 or booleans).
        bins: Number of equal-width confidence bins.

    Returns:
        The ECE in [0, 1].
    """
    table = reliability_table(probs, outcomes, bins=bins)
    total = sum(b.count for b in table)
    return float(
        sum(
            b.count * abs(b.mean_confidence - b.hit_rate)
            for b in table
            if b.mean_confidence is not None and b.hit_rate is not None
        )
        / total
    )


def reliability_table(
    probs: ArrayLike, outcomes: ArrayLike, bins: int = 10
) -> list[ReliabilityBin]:
    """Every confidence bin with its count, mean confidence and hit rate.

    Args:
        probs: Stated probabilities in [0, 1].
        outcomes: Realised outcomes (0/1 or booleans).
        bins: Number of equal-width bins; empty bins are listed with a count of 0.

    Returns:
        ``bins`` rows, lowest confidence first.

    Raises:
        ConfigError: If ``bins`` is not a positive integer.
        DataError: If the inputs are empty, of different lengths, or out of range.
    """
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise ConfigError("bins", bins, "a number of bins is a positive integer")
    p, o = _pairs(probs, outcomes)
    index = np.minimum((p * bins).astype(np.int64), bins - 1)
    counts = np.bincount(index, minlength=bins)
    confidence = np.bincount(index, weights=p, minlength=bins)
    hits = np.bincount(index, weights=o, minlength=bins)
    table = []
    for b in range(bins):
        n = int(counts[b])
        table.append(
            ReliabilityBin(
                lower=b / bins,
                upper=(b + 1) / bins,
                count=n,
                mean_confidence=float(confidence[b] / n) if n else None,
                hit_rate=float(hits[b] / n) if n else None,
            )
        )
    return table


def _pairs(
    probs: ArrayLike, outcomes: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    p = np.asarray(probs, dtype=np.float64).ravel()
    o = np.asarray(outcomes, dtype=np.float64).ravel()
    if p.size == 0:
        raise DataError("no decisions to score")
    if p.size != o.size:
        raise DataError(f"{p.size} confidences but {o.size} outcomes")
    if not np.all(np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise DataError("confidences are probabilities in [0, 1]")
    if not np.all((o == 0) | (o == 1)):
        raise DataError("outcomes are 0 or 1")
    return p, o
