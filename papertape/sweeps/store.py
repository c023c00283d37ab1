"""The sweep's folder: finished cells kept by run id, so a killed sweep continues.

Layout::

    <journal dir>/sweeps/<name>-<hash>/
        data/                      shared market data (.npy columns)
        cells/<run id>.npy         the cell's per-bar returns
        cells/<run id>.json        its parameters and metrics; written last, marks it done
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["CellResult", "SweepStore"]


@dataclass(frozen=True, slots=True)
class CellResult:
    """What one finished cell contributes to the sweep.

    Attributes:
        index: The cell's position in expansion order.
        task_id: Canonical text of its parameters.
        run_id: Run id of its resolved config.
        params: Its swept parameters.
        seed: Its run seed.
        metrics: Sharpe, total return, drawdown, trades... (numbers only).
        returns: Per-bar simple returns of its equity curve.
        window: ``""`` (whole data) or a walk-forward window, ``"f<k>-train"``/``"f<k>-test"``.
        symbol: The one symbol it traded (``""``: the strategy's own).
        llm_usage: An LLM trader's decisions, model calls and cache hits in this run (empty
            for other strategies). Kept beside the metrics, not in the result table: a re-run
            served from the LLM cache has the same results with no model calls.
    """

    index: int
    task_id: str
    run_id: str
    params: dict[str, Any]
    seed: int
    metrics: dict[str, float]
    returns: NDArray[np.float64]
    window: str = ""
    symbol: str = ""
    llm_usage: dict[str, int] = field(default_factory=dict)

    def header(self) -> dict[str, Any]:
        """Everything but the returns, as JSON-ready values."""
        return {
            "index": self.index,
            "task_id": self.task_id,
            "run_id": self.run_id,
            "params": self.params,
            "seed": self.seed,
            "metrics": self.metrics,
            "window": self.window,
            "symbol": self.symbol,
            "llm_usage": self.llm_usage,
        }


class SweepStore:
    """Finished cells of one sweep on disk."""

    def __init__(self, folder: Path) -> None:
        """Open (and create) the sweep folder ``folder``."""
        self.folder = folder
        self.cells = folder / "cells"
        self.cells.mkdir(parents=True, exist_ok=True)

    def save(self, result: CellResult) -> None:
        """Keep a finished cell; atomic, the JSON (the done marker) last."""
        npy = self.cells / f"{result.run_id}.npy"
        tmp = self.cells / f"{result.run_id}.part.npy"
        np.save(tmp, result.returns)
        os.replace(tmp, npy)
        doc = self.cells / f"{result.run_id}.json"
        tmp_doc = self.cells / f"{result.run_id}.part.json"
        tmp_doc.write_text(json.dumps(result.header(), sort_keys=True), encoding="utf-8")
        os.replace(tmp_doc, doc)

    def load(self, run_id: str) -> CellResult | None:
        """A finished cell by run id, or None when it has not finished."""
        doc = self.cells / f"{run_id}.json"
        npy = self.cells / f"{run_id}.npy"
        if not doc.is_file() or not npy.is_file():
            return None
        head = json.loads(doc.read_text(encoding="utf-8"))
        returns = np.load(npy)
        return CellResult(
            head["index"],
            head["task_id"],
            head["run_id"],
            head["params"],
            head["seed"],
            head["metrics"],
            returns,
            head.get("window", ""),
            head.get("symbol", ""),
            head.get("llm_usage", {}),
        )
