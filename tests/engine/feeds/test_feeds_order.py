"""Newest-first files are reversed; a file losing too many rows stops the run."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from papertape.engine.errors import ConfigError, DataError
from papertape.engine.feeds.base import RejectReason
from papertape.engine.feeds.csv import load_csv
from papertape.engine.feeds.loader import load_bars
from papertape.engine.feeds.trades import load_trades_csv

WriteBars = Callable[..., Path]
BarLine = Callable[..., str]
WriteText = Callable[..., Path]
ENGINES = pytest.mark.parametrize("engine", ["arrow", "text"])
DAY_NS = 86_400 * 10**9
JAN_1_2024_NS = 1_704_067_200 * 10**9


@ENGINES
def test_newest_first_file_is_reversed_and_says_so(
    write_bars: WriteBars,
    bar_line: BarLine,
    engine: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Alpha Vantage and many exports write the newest row first.
    path = write_bars([bar_line(day, c=10 + day / 100) for day in range(20, 0, -1)])

    with caplog.at_level(logging.WARNING, logger="papertape.feeds"):
        series = load_csv(path, engine=engine, cache=False)

    assert len(series) == 20
    assert series.time.tolist() == [JAN_1_2024_NS + d * DAY_NS for d in range(20)]
    assert series.close[0] == 10.01
    assert series.rejections is not None
    assert series.rejections.sorted_descending
    assert series.rejections.total == 0
    assert "descending time order; reversed to ascending" in caplog.text


@ENGINES
def test_reversed_file_keeps_its_line_numbers_in_rejections(
    write_bars: WriteBars, bar_line: BarLine, engine: str
) -> None:
    lines = [bar_line(5), bar_line(4), bar_line(3, v=-1), bar_line(3), bar_line(1)]

    series = load_csv(write_bars(lines), engine=engine, cache=False)

    assert series.rejections is not None and series.rejections.sorted_descending
    # read bottom up: line 5 (day 3) is accepted first, so line 4 (day 3 again, bad volume)
    # is charged to its volume, the first failing check
    assert dict(series.rejections.counts) == {RejectReason.NEGATIVE_VOLUME: 1}
    assert series.rejections.examples[0][0] == 4
    assert len(series) == 4


def test_newest_first_trades_are_reversed_keeping_equal_times(write_text: WriteText) -> None:
    text = (
        "timestamp,price,amount\n"
        "2024-01-01T00:00:02Z,3,1\n"
        "2024-01-01T00:00:01Z,2,1\n"
        "2024-01-01T00:00:01Z,1,1\n"
    )

    ticks = load_trades_csv(write_text(text), cache=False)

    assert ticks.close.tolist() == [1.0, 2.0, 3.0]
    assert ticks.rejections is not None and ticks.rejections.sorted_descending


def test_partly_out_of_order_file_is_not_reordered(
    write_bars: WriteBars, bar_line: BarLine
) -> None:
    series = load_csv(write_bars([bar_line(1), bar_line(3), bar_line(2)]), cache=False)

    assert series.rejections is not None
    assert not series.rejections.sorted_descending
    assert series.rejections.as_dict() == {"out_of_order_timestamp": 1}


def test_ascending_file_is_not_marked_sorted(write_bars: WriteBars, bar_line: BarLine) -> None:
    series = load_csv(write_bars([bar_line(1), bar_line(2)]), cache=False)

    assert series.rejections is not None and not series.rejections.sorted_descending


def _mostly_bad(bar_line: BarLine, bad: int, good: int) -> list[str]:
    return [bar_line(d + 1) for d in range(good)] + [
        bar_line(d + 1, time=f"2024-02-{d + 1:02d}", v=-1) for d in range(bad)
    ]


def test_more_rejected_rows_than_allowed_is_a_data_error_naming_file_count_and_reasons(
    write_bars: WriteBars, bar_line: BarLine
) -> None:
    path = write_bars(_mostly_bad(bar_line, bad=2, good=18), name="AAPL.csv")

    with pytest.raises(DataError) as caught:
        load_bars(path, max_rejected_share=0.05, cache=False)

    message = str(caught.value)
    assert "AAPL.csv" in message
    assert "rejected 2 of 20 rows" in message
    assert "negative_volume=2" in message
    assert "line 20: negative_volume (volume -1)" in message


def test_rejected_share_at_the_limit_is_accepted(write_bars: WriteBars, bar_line: BarLine) -> None:
    path = write_bars(_mostly_bad(bar_line, bad=1, good=19))

    series = load_bars(path, max_rejected_share=0.05, cache=False)

    assert len(series) == 19


def test_no_limit_unless_asked(write_bars: WriteBars, bar_line: BarLine) -> None:
    series = load_bars(write_bars(_mostly_bad(bar_line, bad=5, good=5)), cache=False)

    assert len(series) == 5


def test_trades_share_is_checked_before_resampling(write_text: WriteText) -> None:
    text = "timestamp,price,amount\n2024-01-01T00:00:00Z,1,1\n2024-01-01T00:00:01Z,-1,1\n"

    with pytest.raises(DataError, match="rejected 1 of 2 rows"):
        load_bars(write_text(text), timeframe="1m", max_rejected_share=0.4, cache=False)


def test_run_config_defaults_to_five_percent_and_checks_range() -> None:
    from papertape.engine.config import parse_config

    base = {"strategies": [{"name": "buy_and_hold"}]}
    config = parse_config({**base, "data": [{"path": "x.csv"}]})
    assert config.data[0].max_rejected_share == 0.05

    with pytest.raises(ConfigError, match="max_rejected_share"):
        parse_config({**base, "data": [{"path": "x.csv", "max_rejected_share": 1.5}]})


def test_run_stops_when_its_data_rejects_too_much(
    write_bars: WriteBars, bar_line: BarLine, tmp_path: Path
) -> None:
    from papertape.engine.config import parse_config
    from papertape.engine.session import load_series

    path = write_bars(_mostly_bad(bar_line, bad=3, good=17), name="SPY.csv")
    data = {"path": str(path)}
    config = parse_config({"strategies": [{"name": "buy_and_hold"}], "data": [data]}, tmp_path)

    with pytest.raises(DataError, match=r"SPY\.csv: rejected 3 of 20 rows"):
        load_series(config)

    lenient = parse_config(
        {"strategies": [{"name": "buy_and_hold"}], "data": [{**data, "max_rejected_share": 0.2}]},
        tmp_path,
    )
    assert len(load_series(lenient)[0]) == 17
