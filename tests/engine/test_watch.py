"""The watched session (`papertape run --tui`'s child): the same journal, a side file too."""

from __future__ import annotations

from pathlib import Path

from papertape.engine.session import run_session
from papertape.engine.telemetry_file import TELEMETRY_NAME, TelemetryTail
from papertape.engine.watch import RUN_DIR_FILE, watched_session
from tests.monitor.conftest import quick_config


def test_a_watched_run_writes_the_same_journal_bytes_and_a_telemetry_side_file(
    tmp_path: Path,
) -> None:
    plain = run_session(quick_config(tmp_path / "plain"))
    handover = tmp_path / "handover"
    handover.mkdir()
    watched = watched_session(quick_config(tmp_path / "watched"), handover)
    assert plain.journal_path is not None and watched.journal_path is not None
    plain_dir, watched_dir = Path(plain.journal_path), Path(watched.journal_path)
    if plain_dir.is_file():
        plain_dir, watched_dir = plain_dir.parent, watched_dir.parent
    assert (handover / RUN_DIR_FILE).read_text() == str(watched_dir.resolve())
    assert (watched_dir / "events.jsonl").read_bytes() == (plain_dir / "events.jsonl").read_bytes()
    samples = TelemetryTail(watched_dir / TELEMETRY_NAME).read()
    assert samples and not (plain_dir / TELEMETRY_NAME).exists()
    assert set(samples[-1].equity) == set(watched.strategies)
    for sid, equity in samples[-1].equity.items():  # a step's true equity, not an estimate
        assert equity in watched.strategies[sid].equity
