from __future__ import annotations

import itertools
import logging
import math
import time as clock
from collections import Counter
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from papertape.engine.feeds.base import BarSeries, RejectionReport, RejectReason
from papertape.engine.feeds.validate import TIME_MISSING, validate_bars

Row = tuple[int, float, float, float, float, float]
GOOD: Row = (0, 10.0, 12.0, 9.0, 11.0, 100.0)


def run(
    rows: Sequence[Row],
    unparseable: Sequence[bool] | None = None,
    *,
    allow_equal_times: bool = False,
    report: RejectionReport | None = None,
) -> BarSeries:
    cols = list(zip(*rows, strict=True)) if rows else [()] * 6
    return validate_bars(
        "TEST",
        np.array(cols[0], dtype=np.int64),
        *(np.array(col, dtype=np.float64) for col in cols[1:]),
        lines=np.arange(2, len(rows) + 2, dtype=np.int64),
        unparseable=None if unparseable is None else np.array(unparseable, dtype=bool),
        source="TEST.csv",
        allow_equal_times=allow_equal_times,
        report=report,
    )


def bar(
    t: int, o: float = 10.0, h: float = 12.0, low: float = 9.0, c: float = 11.0, v: float = 100.0
) -> Row:
    return (t, o, h, low, c, v)


BAD_ROWS = [
    pytest.param(bar(2, o=math.nan), RejectReason.MISSING_VALUE, id="nan-open"),
    pytest.param(bar(2, v=math.nan), RejectReason.MISSING_VALUE, id="nan-volume"),
    pytest.param(bar(TIME_MISSING), RejectReason.MISSING_VALUE, id="missing-time"),
    pytest.param(bar(2, c=math.inf), RejectReason.UNPARSEABLE, id="inf-close"),
    pytest.param(bar(2, o=0.0), RejectReason.NON_POSITIVE_PRICE, id="zero-open"),
    pytest.param(bar(2, low=-1.0), RejectReason.NON_POSITIVE_PRICE, id="negative-low"),
    pytest.param(bar(2, h=8.0, o=8.5, c=8.5), RejectReason.HIGH_BELOW_LOW, id="high-below-low"),
    pytest.param(bar(2, o=12.5), RejectReason.OUTSIDE_RANGE, id="open-above-high"),
    pytest.param(bar(2, o=8.5), RejectReason.OUTSIDE_RANGE, id="open-below-low"),
    pytest.param(bar(2, c=12.5), RejectReason.OUTSIDE_RANGE, id="close-above-high"),
    pytest.param(bar(2, c=8.0), RejectReason.OUTSIDE_RANGE, id="close-below-low"),
    pytest.param(bar(2, v=-0.5), RejectReason.NEGATIVE_VOLUME, id="negative-volume"),
    pytest.param(bar(1, c=11.5), RejectReason.DUPLICATE_TIMESTAMP, id="duplicate-time"),
    pytest.param(bar(0, c=11.5), RejectReason.OUT_OF_ORDER, id="earlier-time"),
]


@pytest.mark.parametrize(("bad", "reason"), BAD_ROWS)
def test_each_bad_row_kind_is_rejected_once_and_absent(bad: Row, reason: RejectReason) -> None:
    series = run([bar(1), bad, bar(3)])

    assert series.rejections is not None
    assert dict(series.rejections.counts) == {reason: 1}
    assert series.time.tolist() == [1, 3]
    assert series.close.tolist() == [11.0, 11.0]
    assert series.rejections.examples[0][:2] == (3, reason)  # second data row is line 3


def test_unparseable_mask_rejects_row_before_any_other_check() -> None:
    series = run([bar(1), bar(2, o=-1.0, v=math.nan), bar(3)], unparseable=[False, True, False])

    assert series.rejections is not None
    assert dict(series.rejections.counts) == {RejectReason.UNPARSEABLE: 1}
    assert series.time.tolist() == [1, 3]


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (bar(2, o=math.nan, low=-1.0), RejectReason.MISSING_VALUE),
        (bar(2, o=-1.0, h=1.0, low=2.0, v=-1.0), RejectReason.NON_POSITIVE_PRICE),
        (bar(2, h=8.0, o=20.0), RejectReason.HIGH_BELOW_LOW),
        (bar(2, o=20.0, v=-1.0), RejectReason.OUTSIDE_RANGE),
        (bar(1, v=-1.0), RejectReason.NEGATIVE_VOLUME),
    ],
)
def test_row_failing_several_checks_counts_under_first_reason_only(
    bad: Row, reason: RejectReason
) -> None:
    series = run([bar(1), bad])

    assert series.rejections is not None
    assert dict(series.rejections.counts) == {reason: 1}
    assert series.rejections.total == 1


def test_time_checks_compare_with_last_accepted_row_only() -> None:
    rows = [bar(10), bar(50, o=-1.0), bar(20), bar(20), bar(15), bar(17), bar(30)]

    series = run(rows)

    # 50 was rejected for its price, so it does not raise the bar for 20 and 30; 15 was
    # rejected as out of order, so 17 is compared with 20 (the last accepted), not with 15.
    assert series.time.tolist() == [10, 20, 30]
    assert series.rejections is not None
    assert series.rejections.as_dict() == {
        "duplicate_timestamp": 1,
        "non_positive_price": 1,
        "out_of_order_timestamp": 2,
    }


def test_equal_times_allowed_for_ticks_but_earlier_times_rejected() -> None:
    rows = [bar(1), bar(1), bar(2), bar(2), bar(1), bar(3)]

    series = run(rows, allow_equal_times=True)

    assert series.time.tolist() == [1, 1, 2, 2, 3]
    assert series.rejections is not None
    assert dict(series.rejections.counts) == {RejectReason.OUT_OF_ORDER: 1}


def test_examples_are_earliest_lines_with_details_and_capped() -> None:
    rows = [bar(100)] + [bar(t, v=-1.0) if t % 2 else bar(t) for t in range(1, 50)]
    report = RejectionReport("TEST.csv", max_examples=3)

    series = run(rows, report=report)

    assert series.rejections is report
    assert report.total == 49
    assert [line for line, _, _ in report.examples] == [3, 4, 5]
    assert [reason for _, reason, _ in report.examples] == [
        RejectReason.NEGATIVE_VOLUME,
        RejectReason.OUT_OF_ORDER,
        RejectReason.NEGATIVE_VOLUME,
    ]
    assert report.examples[0][2] == "volume -1"
    assert "1970-01-01T00:00:00.000000100" in report.examples[1][2]


def test_one_warning_per_file_summarises_counts(caplog: pytest.LogCaptureFixture) -> None:
    rows = [bar(t, v=-1.0 if t % 3 == 0 else 1.0) for t in range(1, 31)] + [bar(5)] * 4

    with caplog.at_level(logging.WARNING, logger="papertape.feeds"):
        run(rows)

    records = [r for r in caplog.records if r.name == "papertape.feeds"]
    assert len(records) == 1
    assert records[0].levelno == logging.WARNING
    message = records[0].getMessage()
    assert "TEST.csv: rejected 14 of 34 rows" in message
    assert "negative_volume=10" in message
    assert "out_of_order_timestamp=4" in message


def test_clean_input_logs_nothing_and_returns_read_only_columns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG, logger="papertape.feeds"):
        series = run([bar(1), bar(2)])

    assert caplog.records == []
    assert series.rejections is not None
    assert series.rejections.total == 0
    assert not series.close.flags.writeable
    assert series.close.flags.c_contiguous


def test_empty_input_gives_empty_series() -> None:
    series = run([])

    assert len(series) == 0
    assert series.rejections is not None
    assert series.rejections.total == 0


def test_million_rows_validate_well_under_a_second() -> None:
    n = 1_000_000
    rng = np.random.default_rng(7)
    close = 100.0 + rng.random(n)
    time = np.arange(n, dtype=np.int64) * 60 * 10**9
    time[::1000] = time[::1000] - 120 * 10**9  # some out-of-order rows
    lines = np.arange(2, n + 2, dtype=np.int64)
    timings = []

    for _ in range(3):  # best of three: robust to a busy machine, still fails if not vectorised
        started = clock.perf_counter()
        series = validate_bars("BIG", time, close, close + 1, close - 1, close, close, lines=lines)
        timings.append(clock.perf_counter() - started)

    assert series.rejections is not None
    assert series.rejections.as_dict() == {"out_of_order_timestamp": 999}
    assert len(series) == n - 999
    assert min(timings) < 0.5


def reference(
    rows: Sequence[Row], unparseable: Sequence[bool], allow_equal_times: bool
) -> tuple[list[int], Counter[RejectReason]]:
    """Row-by-row statement of the rules, to check the vectorised validator against.

    A file entirely in descending time order is read bottom up.
    """
    kept: list[int] = []
    counts: Counter[RejectReason] = Counter()
    last: int | None = None
    present = [row[0] for row in rows if row[0] != TIME_MISSING]
    descending = (
        len(present) >= 2
        and present[-1] < present[0]
        and all(b <= a for a, b in itertools.pairwise(present))
    )
    order = range(len(rows) - 1, -1, -1) if descending else range(len(rows))  # newest first
    for i in order:
        t, o, h, low, c, v = rows[i]
        values = (o, h, low, c, v)
        if unparseable[i] or any(math.isinf(x) for x in values):
            reason = RejectReason.UNPARSEABLE
        elif t == TIME_MISSING or any(math.isnan(x) for x in values):
            reason = RejectReason.MISSING_VALUE
        elif min(o, h, low, c) <= 0:
            reason = RejectReason.NON_POSITIVE_PRICE
        elif h < low:
            reason = RejectReason.HIGH_BELOW_LOW
        elif not (low <= o <= h and low <= c <= h):
            reason = RejectReason.OUTSIDE_RANGE
        elif v < 0:
            reason = RejectReason.NEGATIVE_VOLUME
        elif last is not None and t == last and not allow_equal_times:
            reason = RejectReason.DUPLICATE_TIMESTAMP
        elif last is not None and t < last:
            reason = RejectReason.OUT_OF_ORDER
        else:
            kept.append(i)
            last = t
            continue
        counts[reason] += 1
    return kept, counts


# Weighted towards valid values so that rows reach the later checks often.
PRICE = st.sampled_from([1.0, 2.0, 3.0] * 3 + [math.nan, math.inf, -1.0, 0.0])
TIME = st.sampled_from([TIME_MISSING, 0, 1, 2, 3, 4])
ANY_ROW = st.tuples(
    TIME,
    PRICE,
    PRICE,
    PRICE,
    PRICE,
    st.sampled_from([0.0, 5.0, 5.0, math.nan, -1.0]),
    st.integers(0, 5).map(lambda k: k == 0),  # unparseable in about one row of six
)
VALID_ROW = TIME.map(lambda t: (t, 10.0, 12.0, 9.0, 11.0, 100.0, False))
ROW = st.one_of(VALID_ROW, ANY_ROW)


@settings(max_examples=500, deadline=None)
@given(st.lists(ROW, max_size=30), st.booleans())
def test_vectorised_validator_matches_row_by_row_rules(
    rows: list[tuple[int, float, float, float, float, float, bool]], allow_equal_times: bool
) -> None:
    data: list[Row] = [row[:6] for row in rows]
    flags = [row[6] for row in rows]
    kept, counts = reference(data, flags, allow_equal_times)

    series = run(data, flags, allow_equal_times=allow_equal_times)

    assert series.rejections is not None
    assert dict(series.rejections.counts) == dict(counts)
    assert series.time.tolist() == [data[i][0] for i in kept]
    assert series.open.tolist() == [data[i][1] for i in kept]
    assert series.volume.tolist() == [data[i][5] for i in kept]
