"""The result table of a sweep: one CSV row per cell, in expansion order.

Floats are written with ``repr`` (shortest round-trip text), so two tables are byte-identical
exactly when every number is; timings are left out because they differ run to run.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from papertape.sweeps.store import CellResult
from papertape.sweeps.worker import METRICS

__all__ = ["result_table"]


def result_table(results: Sequence[CellResult]) -> str:
    """CSV text: index, task id, run id, seed, each parameter, each metric."""
    names = sorted({k for r in results for k in r.params})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["index", "task_id", "symbol", "window", "run_id", "seed", *names, *METRICS])
    for r in sorted(results, key=lambda r: r.index):
        writer.writerow(
            [
                r.index,
                r.task_id,
                r.symbol,
                r.window,
                r.run_id,
                r.seed,
                *(r.params.get(n, "") for n in names),
                *(repr(float(r.metrics[m])) for m in METRICS),
            ]
        )
    return out.getvalue()
