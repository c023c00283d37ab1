"""Fixtures for the indicator tests: real S&P 500 daily bars and an incremental-class driver."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

DATA = Path(__file__).resolve().parents[3] / "papertape" / "engine" / "data" / "sp500_daily.csv"


@dataclass(frozen=True)
class Bars:
    """Read-only OHLCV columns, so an indicator writing into its input fails loudly."""

    open: NDArray[np.float64]
    high: NDArray[np.float64]
    low: NDArray[np.float64]
    close: NDArray[np.float64]
    volume: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.close.size)


@pytest.fixture(scope="session")
def sp500() -> Bars:
    table = np.loadtxt(DATA, delimiter=",", skiprows=1, usecols=(1, 2, 3, 4, 5))
    columns = []
    for k in range(5):
        column = np.ascontiguousarray(table[:, k])
        column.flags.writeable = False
        columns.append(column)
    return Bars(*columns)


Drive = Callable[..., dict[str, NDArray[np.float64]]]


@pytest.fixture
def drive() -> Drive:
    """Feed columns bar by bar to ``indicator.update``; collect the named attributes.

    Also checks on every bar that ``update`` returns exactly ``indicator.value``.
    """

    def run(
        indicator: Any, *columns: Sequence[float], attrs: Sequence[str] = ("value",)
    ) -> dict[str, NDArray[np.float64]]:
        collected: dict[str, list[float]] = {name: [] for name in attrs}
        rows = zip(*(np.asarray(c, dtype=np.float64).tolist() for c in columns), strict=True)
        for row in rows:
            returned = indicator.update(*row)
            value = indicator.value
            assert returned == value or (math.isnan(returned) and math.isnan(value))
            for name in attrs:
                collected[name].append(getattr(indicator, name))
        return {name: np.array(values) for name, values in collected.items()}

    return run
