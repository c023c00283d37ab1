"""Walk-forward: the in-sample winner of each fold, scored on the bars after it.

For every fold the cell with the best Sharpe ratio on the training window is chosen, and its
test-window result is compared with every other combination's on the same test window. The
stitched test returns of the chosen cells are the out-of-sample record of the procedure
"pick the best backtest, trade it next".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from papertape.sweeps.overfitting import per_period_sharpe
from papertape.sweeps.store import CellResult

__all__ = ["FoldOutcome", "WalkForwardReport", "walk_forward"]


@dataclass(frozen=True, slots=True)
class FoldOutcome:
    """One fold.

    Attributes:
        fold: Fold number.
        winner: Task id (parameters) of the in-sample winner.
        in_sample_sharpe: Its Sharpe ratio (annualised) on the training window.
        out_of_sample_sharpe: Its Sharpe ratio on the test window.
        out_of_sample_return: Its total return on the test window.
        out_of_sample_rank: Share of combinations it beat or tied out of sample (0..1).
    """

    fold: int
    winner: str
    in_sample_sharpe: float
    out_of_sample_sharpe: float
    out_of_sample_return: float
    out_of_sample_rank: float


@dataclass(frozen=True, slots=True)
class WalkForwardReport:
    """All folds and the stitched out-of-sample record of the winners.

    Attributes:
        folds: Each fold's outcome.
        out_of_sample_sharpe: Per-bar Sharpe of the winners' stitched test returns.
        out_of_sample_return: Compounded return of those stitched test returns.
        mean_rank: Average out-of-sample rank of the winners (0.5: no better than typical).
    """

    folds: list[FoldOutcome]
    out_of_sample_sharpe: float
    out_of_sample_return: float
    mean_rank: float

    def as_dict(self) -> dict[str, object]:
        """JSON-ready fields."""
        return {
            "folds": [{k: getattr(f, k) for k in f.__slots__} for f in self.folds],
            "out_of_sample_sharpe": self.out_of_sample_sharpe,
            "out_of_sample_return": self.out_of_sample_return,
            "mean_rank": self.mean_rank,
        }


def walk_forward(results: Sequence[CellResult]) -> WalkForwardReport | None:
    """Score each fold's in-sample winner out of sample; None without walk-forward cells."""
    by_window: dict[str, list[CellResult]] = {}
    for r in results:
        if r.window:
            by_window.setdefault(r.window, []).append(r)
    folds = []
    stitched = []
    k = 0
    while f"f{k}-train" in by_window:
        train = sorted(by_window[f"f{k}-train"], key=lambda r: r.index)
        test = {_params_key(r): r for r in by_window[f"f{k}-test"]}
        best = max(train, key=lambda r: (r.metrics["sharpe"], -r.index))
        chosen = test[_params_key(best)]
        others = np.array([r.metrics["sharpe"] for r in test.values()])
        mine = chosen.metrics["sharpe"]
        rank = float(
            (np.sum(others < mine) + 0.5 * (np.sum(others == mine) - 1)) / max(len(others) - 1, 1)
        )
        folds.append(
            FoldOutcome(
                k,
                _params_key(best),
                best.metrics["sharpe"],
                mine,
                chosen.metrics["total_return"],
                rank,
            )
        )
        stitched.append(chosen.returns)
        k += 1
    if not folds:
        return None
    returns = np.concatenate(stitched)
    return WalkForwardReport(
        folds,
        per_period_sharpe(returns),
        float(np.prod(1.0 + returns) - 1.0),
        float(np.mean([f.out_of_sample_rank for f in folds])),
    )


def _params_key(result: CellResult) -> str:
    return result.task_id.split(";window=")[0]
