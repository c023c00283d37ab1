"""``journal stats`` and ``search`` on an arena's window folders (real and blind tape)."""

from __future__ import annotations

from pathlib import Path

import pytest

from papertape.analysis.journal import journal_stats, search_journal
from papertape.arena import parse_arena_config, run_arena
from papertape.engine.journal import read_journal
from tests.arena.conftest import arena_raw


@pytest.fixture
def arena_windows(tmp_path: Path) -> dict[str, Path]:
    raw = arena_raw(tmp_path / "journals", blind="both")
    raw["arena"]["windows"] = raw["arena"]["windows"][:1]
    run_arena(parse_arena_config(raw, tmp_path))
    folders = {p.parent.name: p.parent for p in (tmp_path / "journals").rglob("events.jsonl")}
    return {("blind" if "blind" in name else "real"): f for name, f in folders.items()}


def test_an_arena_window_is_attributed_on_its_own_span_of_the_data(
    arena_windows: dict[str, Path],
) -> None:
    stats = journal_stats(arena_windows["real"])

    assert stats.attribution_note is None and stats.attribution
    (finished,) = [r for r in read_journal(arena_windows["real"]) if r["kind"] == "run_finished"]
    for sid, row in stats.edge_by_strategy().items():
        # Earned telescopes to the slot's marked P&L (it held nothing before deciding): a
        # wrong span of data would mark at other closes and miss it.
        final = finished["summary"][sid]["final_equity"]
        assert row["earned"] == pytest.approx(final - 100_000.0, abs=1e-6), sid
    assert search_journal(arena_windows["real"], "cross*")


def test_a_blind_tape_gives_the_rest_and_says_why_there_is_no_attribution(
    arena_windows: dict[str, Path],
) -> None:
    stats = journal_stats(arena_windows["blind"])

    assert stats.attribution == []
    assert stats.attribution_note is not None and "blind" in stats.attribution_note
    assert stats.by["trader"]
