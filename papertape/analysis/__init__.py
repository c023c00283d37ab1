"""Readers of results: the statistics every comparison in papertape relies on.

``significance`` holds the tests (paired Sharpe and total return differences, family-wise
control, deflated Sharpe ratio, probability of backtest overfitting); ``calibration`` scores
stated confidences against outcomes. Importing this package needs numpy, scipy and ``arch``
(the ``analysis`` extra), never torch.
"""

from __future__ import annotations

from papertape.analysis.calibration import (
    ReliabilityBin,
    brier_score,
    expected_calibration_error,
    reliability_table,
)
from papertape.analysis.significance import (
    FamilywiseResult,
    PairedTest,
    PboResult,
    beats_baseline,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    holm,
    probability_of_backtest_overfitting,
    romano_wolf,
    sharpe_difference,
    total_return_difference,
)

__all__ = [
    "FamilywiseResult",
    "PairedTest",
    "PboResult",
    "ReliabilityBin",
    "beats_baseline",
    "brier_score",
    "deflated_sharpe_ratio",
    "expected_calibration_error",
    "expected_max_sharpe",
    "holm",
    "probability_of_backtest_overfitting",
    "reliability_table",
    "romano_wolf",
    "sharpe_difference",
    "total_return_difference",
]
