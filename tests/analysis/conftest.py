"""Seeded return processes shared by the statistics tests."""

from __future__ import annotations

import numpy as np
import pytest


def correlated_pair(
    rng: np.random.Generator,
    periods: int,
    *,
    rho: float = 0.5,
    edge: float = 0.0,
    fat_tails: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Two traders' daily returns (1 % vol), correlated ``rho``, Student-t(5) tails.

    Both have a mean of 3 bp a day; trader a gets ``edge`` more per day.
    """
    if fat_tails:
        z = rng.standard_t(5, size=(periods, 2)) / np.sqrt(5.0 / 3.0)
    else:
        z = rng.standard_normal((periods, 2))
    a = 0.01 * z[:, 0]
    b = 0.01 * (rho * z[:, 0] + np.sqrt(1.0 - rho**2) * z[:, 1])
    return a + 0.0003 + edge, b + 0.0003


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20_241_201)
