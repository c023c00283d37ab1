"""The report's charts from a hand-made window: regime shading, fill markers, drawdown."""

from __future__ import annotations

import pytest

from papertape.analysis.report.figures import (
    calibration_figure,
    colour_of,
    equity_figure,
    price_figure,
)

DAY = 86_400 * 10**9


def _window(regimes: list[dict]) -> dict:
    times = [i * DAY for i in range(5)]
    return {
        "label": "w",
        "blind": False,
        "times": times,
        "regimes": regimes,
        "prices": {"X": {"times": times, "close": [10.0, 11.0, 9.0, 12.0, 12.5]}},
        "traders": {
            "a": {
                "equity": [100.0, 110.0, 88.0, 120.0, 121.0],
                "fills": [
                    {"time": DAY, "symbol": "X", "qty": 2.0, "price": 11.0},
                    {"time": 3 * DAY, "symbol": "X", "qty": -2.0, "price": 12.0},
                ],
                "trades": [],
                "decisions": [],
            },
            "flat": {"equity": [100.0] * 5, "fills": [], "trades": [], "decisions": []},
        },
    }


def test_regimes_are_shaded_and_drawdowns_drawn() -> None:
    regimes = [
        {"time": 0, "regime": "calm"},
        {"time": 2 * DAY, "regime": "volatile"},
    ]
    fig = equity_figure(_window(regimes), colour_of(["a", "flat"]))
    shapes = fig.layout.shapes
    assert len(shapes) == 4  # two regimes, shaded on the equity and the drawdown panel
    colours = {s.fillcolor for s in shapes}
    assert colours == {"rgba(44,160,44,0.10)", "rgba(214,39,40,0.12)"}  # calm, volatile
    dd = next(t for t in fig.data if t.yaxis == "y2" and t.name == "a")
    assert min(dd.y) == pytest.approx(-20.0)  # 110 -> 88
    assert not equity_figure(_window([]), {}).layout.shapes


def test_fills_are_marked_on_price_with_their_side() -> None:
    fig = price_figure(_window([]), colour_of(["a", "flat"]))
    marks = [t for t in fig.data if t.name == "a"]
    assert len(marks) == 1
    assert list(marks[0].marker.symbol) == ["triangle-up", "triangle-down"]
    assert list(marks[0].y) == [11.0, 12.0]
    assert not [t for t in fig.data if t.name == "flat"]  # no fills, no markers


def test_calibration_chart_has_the_diagonal_and_one_series_per_scored_trader() -> None:
    board = {
        "blind": False,
        "rows": [
            {"trader": "m", "llm": {"calibration": {"n": 3, "mean_confidence": 0.7,
                                                    "hit_rate": 0.5, "bins": []}}},
            {"trader": "r"},
        ],
    }  # fmt: skip
    fig = calibration_figure(board, {})
    assert [t.name for t in fig.data] == ["perfectly calibrated", "m (n=3)"]
    assert list(fig.data[1].x) == [0.7] and list(fig.data[1].y) == [0.5]
