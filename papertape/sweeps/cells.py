"""Expanding a sweep into cells: one session per parameter combination.

A cell's identity does not depend on where or when it runs: its task id is its parameters
written canonically, its seed comes from (run seed, task id), and its run id is the hash of
its resolved config (data included), so a finished cell is found again by a resumed sweep.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from papertape.engine.config import RunConfig
from papertape.engine.errors import ConfigError
from papertape.engine.feeds.base import BarSeries
from papertape.engine.session import data_hash, papertape_version, window_of
from papertape.sweeps.spec import SweepSpec

__all__ = ["Cell", "cell_config", "cell_seed", "expand", "task_id_of", "walk_forward_windows"]


@dataclass(frozen=True, slots=True)
class Cell:
    """One session of a sweep.

    Attributes:
        index: Position in the sweep's expansion order; results are tabled in this order.
        task_id: The parameters written canonically (``fast=5,slow=50``).
        params: The swept parameters of this cell.
        seed: The run seed of this cell, from (run seed, task id).
        run_id: Run id of the cell's resolved config; the key of its stored result.
        config: The cell's run config (only the swept strategy, journal off).
        window: ``""`` for the whole data, ``"f<k>-train"``/``"f<k>-test"`` for walk-forward.
        symbol: The one symbol the cell trades (``""``: the strategy's own symbols).
    """

    index: int
    task_id: str
    params: dict[str, Any]
    seed: int
    run_id: str
    config: RunConfig
    window: str = ""
    symbol: str = ""


def task_id_of(params: dict[str, Any]) -> str:
    """Canonical text of a cell's parameters, in sorted key order."""
    return ",".join(
        f"{k}={json.dumps(params[k], sort_keys=True, separators=(',', ':'))}"
        for k in sorted(params)
    )


def cell_seed(run_seed: int, task_id: str) -> int:
    """A 63-bit seed from the run seed and the task id, the same on every machine."""
    digest = hashlib.sha256(f"{run_seed}:{task_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def _combinations(spec: SweepSpec) -> list[dict[str, Any]]:
    names = list(spec.params)
    grid = [
        dict(zip(names, values, strict=True)) for values in itertools.product(*spec.params.values())
    ]
    kept = [p for p in grid if all(rule.holds(p) for rule in spec.where)]
    if spec.mode == "random" and spec.samples < len(kept):
        picked = sorted(random.Random(spec.seed).sample(range(len(kept)), spec.samples))
        kept = [kept[i] for i in picked]
    return kept


def cell_config(
    base: RunConfig,
    spec: SweepSpec,
    params: dict[str, Any],
    seed: int,
    span: tuple[str | None, str | None] | None = None,
    symbol: str = "",
) -> RunConfig:
    """The run config of one cell: the swept strategy alone, its params set, the cell's seed.

    ``span`` replaces ``[run] start``/``end`` (a walk-forward window); ``symbol`` restricts the
    strategy to one symbol.
    """
    strategy = next(s for s in base.strategies if s.slot_id == spec.strategy)
    update: dict[str, Any] = {"params": {**strategy.params, **params}}
    if symbol:
        update["symbols"] = [symbol]
    strategy = strategy.model_copy(update=update)
    run_update: dict[str, Any] = {"seed": seed}
    if span is not None:
        run_update.update(start=span[0], end=span[1])
    return base.model_copy(
        update={
            "run": base.run.model_copy(update=run_update),
            "strategies": [strategy],
            "journal": base.journal.model_copy(update={"enabled": False}),
        }
    )


def walk_forward_windows(
    spec: SweepSpec, times: NDArray[np.int64]
) -> list[tuple[str, tuple[str | None, str | None]]]:
    """``(label, (start, end))`` of every walk-forward window, train then test per fold."""
    if not spec.train_bars:
        return []
    out: list[tuple[str, tuple[str | None, str | None]]] = []
    n = len(times)
    start, fold = 0, 0
    while start + spec.train_bars + spec.test_bars <= n:
        edges = (start, start + spec.train_bars, start + spec.train_bars + spec.test_bars)
        stamps = [_stamp(times, i) for i in edges]
        out.append((f"f{fold}-train", (stamps[0], stamps[1])))
        out.append((f"f{fold}-test", (stamps[1], stamps[2])))
        start += spec.test_bars
        fold += 1
    if not out:
        raise ConfigError(
            "sweep.walk_forward", f"{spec.train_bars}+{spec.test_bars}", f"more than {n} bars"
        )
    return out


def _stamp(times: NDArray[np.int64], i: int) -> str | None:
    if i >= len(times):
        return None
    return str(np.datetime_as_string(np.datetime64(int(times[i]), "ns"), unit="ns"))


def expand(base: RunConfig, spec: SweepSpec, series: Sequence[BarSeries]) -> list[Cell]:
    """Every cell of the sweep, in expansion order, each with its seed and run id.

    The whole-data cells come first, then (walk-forward) each fold's train and test cells.
    """
    window, _ = window_of(base, series)
    seen = {"data_hash": data_hash(window), "version": papertape_version()}
    combos = _combinations(spec)
    spans: list[tuple[str, tuple[str | None, str | None] | None]] = [("", None)]
    spans += walk_forward_windows(spec, np.asarray(window[0].time))
    known = [s.symbol for s in window]
    for symbol in spec.symbols:
        if symbol not in known:
            raise ConfigError("sweep.symbols", symbol, f"not in the data (symbols: {known})")
    cells: list[Cell] = []
    for label, span in spans:
        for symbol in spec.symbols or ("",):
            for params in combos:
                task = task_id_of(params) + (f";symbol={symbol}" if symbol else "")
                task += f";window={label}" if label else ""
                seed = cell_seed(base.run.seed, task)
                config = cell_config(base, spec, params, seed, span, symbol)
                ident = config.model_copy(update={"run": config.run.model_copy(update=seen)})
                cells.append(
                    Cell(len(cells), task, params, seed, ident.run_id, config, label, symbol)
                )
    return cells
