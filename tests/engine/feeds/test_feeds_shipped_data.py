from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from papertape.engine.feeds.csv import load_csv

SECOND = 10**9


@pytest.mark.parametrize(
    ("name", "rows", "first", "last", "interval_s"),
    [
        ("sp500_daily.csv", 5031, "1999-01-04T00:00", "2018-12-31T00:00", 86_400),
        ("binance_altbtc_1m.csv", 13681, "2017-11-04T23:02", "2017-11-14T22:59", 60),
        ("binance_eth_btc_5m.csv", 5760, "2018-01-10T04:55", "2018-01-30T04:50", 300),
        ("binance_ltc_btc_5m.csv", 5760, "2018-01-10T04:55", "2018-01-30T04:50", 300),
    ],
)
def test_shipped_bar_files_load_whole_without_rejections(
    shipped_data: Path, name: str, rows: int, first: str, last: str, interval_s: int
) -> None:
    series = load_csv(shipped_data / name)

    # Every shipped row is valid: sorted, unique, positive, consistent (checked against the
    # raw files when they were copied), so nothing is rejected.
    assert len(series) == rows
    assert series.rejections is not None
    assert series.rejections.as_dict() == {}
    assert series.time[0] == np.datetime64(first, "ns").astype(np.int64)
    assert series.time[-1] == np.datetime64(last, "ns").astype(np.int64)
    assert series.interval_ns == interval_s * SECOND
    assert series.symbol == name.removesuffix(".csv")


def test_altbtc_minute_file_has_gaps_but_no_rejections(shipped_data: Path) -> None:
    series = load_csv(shipped_data / "binance_altbtc_1m.csv")

    steps = np.diff(series.time) // (60 * SECOND)
    assert int(steps.sum()) + 1 == 14398  # minutes spanned
    assert int(np.count_nonzero(steps > 1)) == 538
    assert int(steps.max()) == 8


def test_sources_file_names_every_shipped_data_file(shipped_data: Path) -> None:
    sources = (shipped_data / "SOURCES.md").read_text(encoding="utf-8")

    shipped = sorted(p.name for p in shipped_data.glob("*.csv"))
    assert shipped == [
        "binance_altbtc_1m.csv",
        "binance_eth_btc_5m.csv",
        "binance_ltc_btc_5m.csv",
        "binance_xrp_eth_trades.csv",
        "sp500_daily.csv",
    ]
    for name in shipped:
        assert f"| {name} |" in sources
