"""Parameter sweeps over local cores or a Ray cluster, identical at any worker count.

``papertape sweep CONFIG.toml`` expands the config's ``[sweep]`` section into cells (one
session each), runs them on a process pool or Ray, keeps finished cells in the sweep's folder
(a killed sweep continues) and measures the winner's overfitting (DSR and PBO). See
docs/sweeps.md.
"""

from __future__ import annotations

from papertape.sweeps.cells import Cell, cell_seed, expand, task_id_of
from papertape.sweeps.overfitting import OverfittingReport, measure_overfitting
from papertape.sweeps.runner import SweepOutcome, run_sweep, sweep_folder
from papertape.sweeps.spec import SweepSpec, load_sweep, parse_sweep
from papertape.sweeps.store import CellResult, SweepStore
from papertape.sweeps.table import result_table

__all__ = [
    "Cell",
    "CellResult",
    "OverfittingReport",
    "SweepOutcome",
    "SweepSpec",
    "SweepStore",
    "cell_seed",
    "expand",
    "load_sweep",
    "measure_overfitting",
    "parse_sweep",
    "result_table",
    "run_sweep",
    "sweep_folder",
    "task_id_of",
]
