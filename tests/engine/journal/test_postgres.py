"""The PostgreSQL backend against a real server: mirror, outage, resume, push, market data."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from papertape.engine.cli.main import main
from papertape.engine.errors import ConfigError
from papertape.engine.events import Event, RunFinished, RunStarted, SignalEmitted, TradeClosed
from papertape.engine.feeds.loader import load_bars
from papertape.engine.journal import JournalStore
from papertape.engine.journal.postgres import PostgresMirror, list_symbols, load_bars_pg, mask_dsn
from papertape.engine.journal.postgres.connection import connect
from papertape.engine.journal.replay import resume_session
from papertape.engine.session import run_session

RunFiles = Any
PG_SECTION = '\n[postgres]\ndsn_env = "PAPERTAPE_TEST_DSN"\n'


def _query(dsn: str, sql: str, *args: Any) -> list[Any]:
    async def go() -> list[Any]:
        conn = await connect(dsn)
        try:
            return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()

    return asyncio.run(go())


def _events_in_db(dsn: str, run_id: str) -> list[tuple[int, dict[str, Any]]]:
    rows = _query(
        dsn,
        "SELECT seq, body::text FROM papertape.journal_events WHERE run_id = $1 ORDER BY seq",
        run_id,
    )
    return [(r[0], json.loads(r[1])) for r in rows]


def _log_records(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_bytes().splitlines()]


def _wait(condition: Callable[[], bool], seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_mask_dsn_hides_passwords() -> None:
    assert mask_dsn("postgresql://u:s3cret@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert "s3cret" not in mask_dsn("host=h user=u password=s3cret dbname=db")
    assert "s3cret" not in mask_dsn("postgresql://u@h/db?password=s3cret&x=1")
    assert mask_dsn("postgresql://u@h/db") == "postgresql://u@h/db"


def test_a_run_mirrors_its_journal_trades_and_summary(
    run_files: Callable[..., RunFiles], pg_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERTAPE_TEST_DSN", pg_dsn)
    files = run_files(bars=300, extra=PG_SECTION)
    config = files.load()
    run_id = files.run_dir().name  # the run id includes the data hash and the version
    result = run_session(config)

    records = _log_records(files.log())
    in_db = _events_in_db(pg_dsn, run_id)
    assert [s for s, _ in in_db] == list(range(len(records)))
    assert [body for _, body in in_db] == records
    trades = _query(
        pg_dsn,
        "SELECT strategy, pnl FROM papertape.trades WHERE run_id = $1 ORDER BY seq",
        run_id,
    )
    assert [(r[0], r[1]) for r in trades] == [
        (r["strategy"], r["pnl"]) for r in records if r["kind"] == "trade"
    ]
    assert len(trades) == sum(len(s.trades) for s in result.strategies.values())
    run = _query(
        pg_dsn,
        "SELECT events, bars, summary::text, data_hash FROM papertape.runs WHERE run_id = $1",
        run_id,
    )[0]
    assert run[0] == len(records)
    assert run[1] == records[-1]["bars"]
    assert json.loads(run[2]) == records[-1]["summary"]
    assert run[3] == records[0]["data_hash"]


def _mixed_events(start: int, n: int) -> list[Event]:
    out: list[Event] = []
    for i in range(start, start + n):
        if i == 0:
            out.append(RunStarted(0, "outage", "c", "d", 1, "backtest", ("X",), ("s",), "t"))
        elif i % 9 == 0:
            out.append(TradeClosed(i, "s", "X", 1, 1.0, i - 5, 100.0, 101.0 + i, 1.0 + i, 0.1, 5))
        else:
            out.append(
                SignalEmitted(i, "s", "X", "long", "market", None, None, None, None, f"tick {i}")
            )
    return out


def _feed(store: JournalStore, events: list[Event], per_tick: int = 5) -> None:
    for k, event in enumerate(events, start=1):
        store.add(event)
        if k % per_tick == 0:
            store.commit()
    store.commit()


def test_events_survive_a_database_outage_exactly_once(
    pg_server: Any, pg_dsn: str, tmp_path: Path
) -> None:
    store = JournalStore(tmp_path / "outage", index=False)
    mirror = PostgresMirror(
        pg_dsn,
        "outage",
        store.path,
        reset=True,
        buffer=50,
        poll=0.02,
        max_backoff=0.2,
        drain_timeout=60.0,
    )
    store.add_mirror(mirror)

    def count() -> int:
        try:
            return int(_query(pg_dsn, "SELECT count(*) FROM papertape.journal_events")[0][0])
        except Exception:  # the mirror has not created its tables yet
            return -1

    try:
        _feed(store, _mixed_events(0, 100))
        assert _wait(lambda: count() == 100), "the mirror did not ship while the server was up"

        pg_server.stop("fast")
        try:
            _feed(store, _mixed_events(100, 400))  # the engine goes on: nothing waits
            # Every event is durable in the journal while the database is away...
            assert store.path.read_bytes().count(b"\n") == 500
            # ...and the mirror knows it owes them (past its buffer of 50: spilled to the log).
            assert _wait(lambda: not mirror.connected)
            assert mirror.backlog == 400
            assert mirror.spills >= 1
            time.sleep(0.5)  # several failed reconnection attempts
        finally:
            pg_server.start()
        _feed(store, _mixed_events(500, 20))
        store.add(RunFinished(600, 600, {"s": {"cash": 1.0}}))
    finally:
        store.close()

    assert mirror.backlog == 0
    in_db = _events_in_db(pg_dsn, "outage")
    assert [s for s, _ in in_db] == list(range(521))  # every event, once, in order
    assert [body for _, body in in_db] == _log_records(store.path)
    trades = _query(pg_dsn, "SELECT count(*) FROM papertape.trades WHERE run_id = 'outage'")
    assert trades[0][0] == sum(1 for i in range(1, 520) if i % 9 == 0)
    summary = _query(pg_dsn, "SELECT summary::text FROM papertape.runs WHERE run_id='outage'")
    assert json.loads(summary[0][0]) == {"s": {"cash": 1.0}}


def test_a_resumed_run_fills_in_what_the_database_missed(
    run_files: Callable[..., RunFiles], pg_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERTAPE_TEST_DSN", pg_dsn)
    files = run_files(bars=300, extra=PG_SECTION)
    config = files.load()
    run_id = files.run_dir().name  # the run id includes the data hash and the version
    run_session(config)
    reference = files.log().read_bytes()
    total = reference.count(b"\n")
    # A crash: the log kept 60% of the run, the database only its first 25 events.
    files.log().write_bytes(reference[: int(len(reference) * 0.6)])
    _query(
        pg_dsn,
        "DELETE FROM papertape.journal_events WHERE run_id = $1 AND seq >= 25",
        run_id,
    )

    resume_session(files.run_dir())

    assert files.log().read_bytes() == reference
    in_db = _events_in_db(pg_dsn, run_id)
    assert [s for s, _ in in_db] == list(range(total))
    assert [body for _, body in in_db] == _log_records(files.log())


def test_journal_push_ships_a_run_once_however_often_it_runs(
    run_files: Callable[..., RunFiles], pg_dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    files = run_files(bars=200)
    config = files.load()
    run_id = files.run_dir().name  # the run id includes the data hash and the version
    run_session(config)
    for _ in range(2):
        assert main(["journal", "push", str(files.run_dir()), "--dsn", pg_dsn]) == 0
    assert "events in PostgreSQL" in capsys.readouterr().out
    in_db = _events_in_db(pg_dsn, run_id)
    assert [body for _, body in in_db] == _log_records(files.log())


def test_data_import_then_a_run_reads_the_same_bars(
    run_files: Callable[..., RunFiles],
    pg_dsn: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PAPERTAPE_DSN", pg_dsn)
    files = run_files(bars=250)
    for _ in range(2):  # importing twice changes nothing
        assert main(["data", "import", str(files.data), "--symbol", "WALK", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["bars"] == 250
    assert [(s.symbol, s.bars) for s in list_symbols(pg_dsn)] == [("WALK", 250)]

    from_file = load_bars(files.data, symbol="WALK")
    from_db = load_bars_pg(pg_dsn, "WALK")
    for col in ("time", "open", "high", "low", "close", "volume"):
        np.testing.assert_array_equal(getattr(from_db, col), getattr(from_file, col))

    file_result = run_session(files.load(), journal=False)
    text = (
        files.config.read_text().replace(f'path = "{files.data}"', 'source = "postgres"')
        + '\n[postgres]\ndsn_env = "PAPERTAPE_DSN"\njournal = false\n'
    )
    files.config.write_text(text)
    db_result = run_session(files.load(), journal=False)
    for sid, res in file_result.strategies.items():
        assert db_result.strategies[sid].trades == res.trades
    assert main(["data", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["bars"] == 250


def test_a_missing_dsn_is_a_config_error_before_anything_is_written(
    run_files: Callable[..., RunFiles], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PAPERTAPE_TEST_DSN", raising=False)
    files = run_files(bars=50, extra=PG_SECTION)
    with pytest.raises(ConfigError, match="PAPERTAPE_TEST_DSN"):
        run_session(files.load())
    assert not files.run_dir().exists()


def test_an_unreachable_database_is_a_data_error(tmp_path: Path) -> None:
    from papertape.engine.errors import DataError

    with pytest.raises(DataError, match=r"postgresql://u:\*\*\*@127\.0\.0\.1:1/db"):
        load_bars_pg("postgresql://u:pw@127.0.0.1:1/db", "X")


def _wrong_login(dsn: str) -> str:
    """The same server and database with a user the server does not know."""
    return dsn.replace("postgresql://postgres@", "postgresql://intruder:p%40ss@", 1)


def test_a_refused_login_fails_once_before_the_run_starts(
    run_files: Callable[..., RunFiles], pg_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from papertape.engine.errors import JournalError

    monkeypatch.setenv("PAPERTAPE_TEST_DSN", _wrong_login(pg_dsn))
    files = run_files(bars=50, extra=PG_SECTION)
    started = time.monotonic()
    with pytest.raises(JournalError, match="refused the login") as err:
        run_session(files.load())
    assert time.monotonic() - started < 10
    assert "intruder:***@" in str(err.value) and "p%40ss" not in str(err.value)
    assert not files.run_dir().exists()


def test_a_mirror_whose_login_is_refused_stops_instead_of_retrying(
    pg_dsn: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = JournalStore(tmp_path / "refused", index=False)
    mirror = PostgresMirror(
        _wrong_login(pg_dsn), "refused", store.path, poll=0.01, max_backoff=0.05
    )
    store.add_mirror(mirror)
    _feed(store, _mixed_events(0, 20))
    assert _wait(lambda: mirror.refused)
    time.sleep(0.3)  # a retrying mirror would log again and again here
    store.close()
    refusals = [r for r in caplog.records if "refused the login" in r.getMessage()]
    assert len(refusals) == 1
    assert mirror.backlog == 20
