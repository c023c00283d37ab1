"""The one way the journal and audit commands write a moment: a date, with the time if any."""

from __future__ import annotations

from datetime import UTC, datetime

from papertape.engine.cli.report import day_text


def _ns(*parts: int) -> int:
    return int(datetime(*parts, tzinfo=UTC).timestamp()) * 10**9


def test_a_daily_bar_shows_its_date_and_an_intraday_moment_its_minute() -> None:
    assert day_text(_ns(2008, 9, 15)) == "2008-09-15"
    assert day_text(_ns(2024, 3, 1, 14, 30)) == "2024-03-01 14:30"
    assert day_text(_ns(2024, 3, 1, 0, 5)) == "2024-03-01 00:05"
