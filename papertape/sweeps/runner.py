"""Run a sweep: expand, reuse finished cells, run the rest, table them, measure overfitting."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from papertape.engine.config import RunConfig, safe_name
from papertape.engine.errors import RunInterrupted
from papertape.engine.feeds.base import BarSeries
from papertape.engine.session import load_series
from papertape.sweeps.cells import Cell, expand
from papertape.sweeps.executors import run_tasks
from papertape.sweeps.overfitting import OverfittingReport, measure_overfitting
from papertape.sweeps.shared import share_series
from papertape.sweeps.spec import SweepSpec
from papertape.sweeps.store import CellResult, SweepStore
from papertape.sweeps.table import result_table
from papertape.sweeps.walkforward import WalkForwardReport, walk_forward
from papertape.sweeps.worker import LLM_USAGE, TAPE, run_cell_task

__all__ = ["SweepOutcome", "run_sweep", "sweep_folder"]


@dataclass(frozen=True, slots=True)
class SweepOutcome:
    """A finished sweep.

    Attributes:
        folder: The sweep's folder (data, finished cells).
        results: Every cell's result, in expansion order.
        ran: Cells run by this call.
        reused: Cells found finished in the folder (a resumed sweep).
        seconds: Wall time of this call's cells.
        overfitting: DSR of the best cell and PBO of the grid (whole-data cells).
        walk_forward: Out-of-sample record of each fold's winner (None without folds).
        llm_usage: LLM decisions, model calls and cache hits of the cells this call ran
            (empty when no cell has an LLM trader).
    """

    folder: Path
    results: list[CellResult]
    ran: int
    reused: int
    seconds: float
    overfitting: OverfittingReport
    walk_forward: WalkForwardReport | None = None
    llm_usage: dict[str, int] = field(default_factory=dict)

    def whole(self) -> list[CellResult]:
        """The cells run on the whole data (not walk-forward windows)."""
        return [r for r in self.results if not r.window]

    def table(self) -> str:
        """The result table as CSV text, identical whatever ran it."""
        return result_table(self.results)


def sweep_folder(base: RunConfig, spec: SweepSpec, cells: Sequence[Cell]) -> Path:
    """``<journal dir>/sweeps/<name>-<hash>``: one folder per sweep definition and data."""
    root = Path(base.journal.dir).absolute()  # like a run's journal: from the working folder
    key = hashlib.sha256(
        (spec.fingerprint() + "".join(c.run_id for c in cells)).encode()
    ).hexdigest()[:12]
    return root / "sweeps" / f"{safe_name(base.run.name)}-{key}"


def _progress(console: Console | None) -> Progress:
    return Progress(
        TextColumn("sweep"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("cells"),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        disable=console is None,
    )


def run_sweep(
    base: RunConfig,
    spec: SweepSpec,
    *,
    workers: int = 1,
    ray: str | None = None,
    folder: Path | None = None,
    series: Sequence[BarSeries] | None = None,
    console: Console | None = None,
) -> SweepOutcome:
    """Run every cell not already finished in the sweep's folder; return the full outcome.

    Args:
        base: The run config (data, costs, the strategy to vary).
        spec: The ``[sweep]`` section.
        workers: Local processes (1: in this process).
        ray: ``"auto"`` or a Ray cluster address; replaces the local pool.
        folder: The sweep's folder (default: :func:`sweep_folder`).
        series: Bars to use instead of loading the config's data files.
        console: Where the progress bar goes (None: no bar).
    """
    data = list(series) if series is not None else load_series(base)
    cells = expand(base, spec, data)
    folder = folder or sweep_folder(base, spec, cells)
    store = SweepStore(folder)
    data_folder = share_series(data, folder)
    found: dict[str, CellResult] = {}
    todo = []
    for cell in cells:
        kept = store.load(cell.run_id)
        if kept is not None:
            # the run id fixes the result; its place in this sweep comes from the cell
            found[cell.task_id] = replace(
                kept, index=cell.index, task_id=cell.task_id, window=cell.window, symbol=cell.symbol
            )
        else:
            todo.append(cell)
    reused = len(found)
    start = time.perf_counter()
    try:
        with _progress(console) as bar:
            task = bar.add_task("cells", total=len(cells), completed=reused, rate="")
            work = run_tasks(run_cell_task, todo, {TAPE: data_folder}, workers=workers, ray=ray)
            for _, result in work:
                store.save(result)
                found[result.task_id] = result
                done = len(found) - reused
                rate = done / max(time.perf_counter() - start, 1e-9)
                bar.update(task, advance=1, rate=f"{rate:.2f} cells/s")
    except (KeyboardInterrupt, RunInterrupted):
        # finished cells are on disk already; the cell that was running is simply run again
        raise RunInterrupted(
            f"sweep stopped: {len(found)} of {len(cells)} cells finished, kept in {folder}; "
            "run the same command again to continue",
            step=len(found),
            run_dir=str(folder),
        ) from None
    seconds = time.perf_counter() - start
    results = [found[c.task_id] for c in cells]
    usage: dict[str, int] = {}
    for cell in todo:
        for key, n in found[cell.task_id].llm_usage.items():
            usage[key] = usage.get(key, 0) + n
    return SweepOutcome(
        folder,
        results,
        len(todo),
        reused,
        seconds,
        measure_overfitting([r for r in results if not r.window], spec.pbo_splits),
        walk_forward(results),
        {key: usage[key] for key in LLM_USAGE if key in usage},
    )
