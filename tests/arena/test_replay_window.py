"""An arena window's journal replays exactly with `papertape journal replay`."""

from __future__ import annotations

from pathlib import Path

import pytest

from papertape.arena import ArenaConfig, run_arena
from papertape.engine.errors import JournalError
from papertape.engine.journal.replay import replay_run


def test_a_real_tape_windows_journal_replays_byte_for_byte(
    tiny_arena: ArenaConfig, tmp_path: Path
) -> None:
    run = run_arena(tiny_arena)
    real = [w for w in run.windows if not w.blind]
    assert len(real) == 2 and all(w.journal for w in real)
    for i, w in enumerate(real):
        assert w.journal is not None
        result = replay_run(w.journal, out=tmp_path / f"r{i}")
        assert result.exact, f"window {w.window.label} did not replay exactly"


@pytest.mark.parametrize("warmup_bars", [100, 0])
def test_a_blind_windows_journal_says_why_it_cannot_be_replayed(
    tmp_path: Path, warmup_bars: int
) -> None:
    from papertape.arena import parse_arena_config
    from tests.arena.conftest import arena_raw

    # the journal names the blind window (dates in 2200+), which the real data does not have
    raw = arena_raw(tmp_path / "j", blind=True, warmup_bars=warmup_bars)
    run = run_arena(parse_arena_config(raw, tmp_path))
    blind = run.windows[0]
    assert blind.blind and blind.journal is not None
    with pytest.raises(JournalError, match="blind tape is built in memory"):
        replay_run(blind.journal, out=tmp_path / "r")
