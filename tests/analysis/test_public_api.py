"""papertape.analysis states its API, and importing it stays light (no torch)."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

ARENA_NAMES = {
    "papertape.analysis.significance": {
        "PairedTest",
        "sharpe_difference",
        "total_return_difference",
        "holm",
        "romano_wolf",
        "deflated_sharpe_ratio",
        "expected_max_sharpe",
        "probability_of_backtest_overfitting",
        "PboResult",
    },
    "papertape.analysis.calibration": {
        "brier_score",
        "expected_calibration_error",
        "reliability_table",
    },
}


@pytest.mark.parametrize(
    "name",
    ["papertape.analysis", "papertape.analysis.significance", "papertape.analysis.calibration"],
)
def test_all_is_explicit_and_importable(name: str) -> None:
    module = importlib.import_module(name)
    exported = module.__all__
    assert exported and len(set(exported)) == len(exported)
    for member in exported:
        assert hasattr(module, member), f"{name}.__all__ names missing {member}"


@pytest.mark.parametrize(("name", "names"), ARENA_NAMES.items())
def test_the_names_other_subsystems_import_exist(name: str, names: set[str]) -> None:
    assert names <= set(importlib.import_module(name).__all__)


def test_importing_analysis_does_not_import_torch() -> None:
    code = "import sys, papertape.analysis; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
