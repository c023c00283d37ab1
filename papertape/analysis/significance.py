"""Honest comparisons: is a difference between traders, or a winner among many, more than noise?

This module is the one place the arena, journal analysis, RL evaluation and sweeps import their
statistics from. It gathers:

* paired tests of two traders on one tape — :func:`sharpe_difference`,
  :func:`total_return_difference` (Ledoit–Wolf 2008 studentized circular block bootstrap,
  block length by Politis–White) returning a :class:`PairedTest`;
* family-wise control over many traders against one baseline — :func:`romano_wolf` (StepM,
  the default behind :func:`beats_baseline`) and :func:`holm`;
* selection bias — :func:`deflated_sharpe_ratio` and :func:`expected_max_sharpe` (Bailey and
  López de Prado 2014);
* backtest overfitting — :func:`probability_of_backtest_overfitting` (CSCV, Bailey et al. 2015).

docs/statistics.md explains each in plain words, with its assumptions and references.
"""

from __future__ import annotations

from papertape.analysis.deflated import deflated_sharpe_ratio, expected_max_sharpe
from papertape.analysis.familywise import FamilywiseResult, beats_baseline, holm, romano_wolf
from papertape.analysis.overfitting import PboResult, probability_of_backtest_overfitting
from papertape.analysis.paired import PairedTest, sharpe_difference, total_return_difference

__all__ = [
    "FamilywiseResult",
    "PairedTest",
    "PboResult",
    "beats_baseline",
    "deflated_sharpe_ratio",
    "expected_max_sharpe",
    "holm",
    "probability_of_backtest_overfitting",
    "romano_wolf",
    "sharpe_difference",
    "total_return_difference",
]
