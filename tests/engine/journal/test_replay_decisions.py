"""Journal replay of rule-based runs: exact, what-if (swap), other cash, and the CLI's answers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from papertape.engine.cli.main import main
from papertape.engine.journal import read_journal
from papertape.engine.journal.replay import RecordedDecisions, replay_run, signal_of
from papertape.engine.session import run_session
from papertape.strategies.sma_cross import SmaCross


def _kinds(path: Path, kind: str) -> list[dict[str, Any]]:
    return [r for r in read_journal(path) if r["kind"] == kind]


@pytest.fixture
def recorded(run_files: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Path:
    """A recorded run (a drop-in strategy with a shield, and sma_cross); strategies then raise."""
    files = run_files(bars=400)
    run_session(files.load())

    def refuse(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("a strategy was built or called during a replay")

    monkeypatch.setattr(SmaCross, "__init__", refuse)
    monkeypatch.setattr(SmaCross, "on_bar", refuse)
    return Path(files.run_dir())


def test_an_unchanged_replay_is_byte_identical_without_calling_a_strategy(
    recorded: Path, tmp_path: Path
) -> None:
    result = replay_run(recorded, out=tmp_path / "r")

    assert result.exact and not result.changed
    assert len(_kinds(result.journal, "fill")) > 4


def test_a_swapped_slot_trades_the_other_slots_recorded_decisions(
    recorded: Path, tmp_path: Path
) -> None:
    result = replay_run(recorded, swap={"a": "b"}, out=tmp_path / "r")

    b_signals = [s for s in _kinds(recorded / "events.jsonl", "signal") if s["strategy"] == "b"]
    a_signals = [s for s in _kinds(result.journal, "signal") if s["strategy"] == "a"]
    assert [(s["time"], s["target"], s["reason"]) for s in a_signals] == [
        (s["time"], s["target"], s["reason"]) for s in b_signals
    ]
    assert result.changed and not result.exact


def test_more_cash_scales_the_positions_of_the_same_decisions(
    recorded: Path, tmp_path: Path
) -> None:
    base = replay_run(recorded, out=tmp_path / "r1")
    rich = replay_run(recorded, cash=20_000.0, out=tmp_path / "r2")

    f1, f2 = _kinds(base.journal, "fill"), _kinds(rich.journal, "fill")
    assert [(f["time"], f["strategy"], f["side"]) for f in f1] == [
        (f["time"], f["strategy"], f["side"]) for f in f2
    ]
    assert f2[0]["qty"] > f1[0]["qty"]
    (started,) = _kinds(rich.journal, "run_started")
    assert started["initial_cash"] == {"a": 20_000.0, "b": 20_000.0}


def test_signals_are_rebuilt_with_every_recorded_field() -> None:
    rec = {
        "kind": "signal",
        "strategy": "s",
        "time": 5,
        "symbol": "X",
        "bar_symbol": "Y",
        "target": "long",
        "order_type": "limit",
        "price": 9.5,
        "stop_loss": 9.0,
        "take_profit": 11.0,
        "size": 0.25,
        "reason": "why",
    }
    sig = signal_of(rec)

    assert (sig.target, sig.symbol, sig.order_type, sig.price) == ("long", "X", "limit", 9.5)
    assert (sig.stop_loss, sig.take_profit, sig.size, sig.reason) == (9.0, 11.0, 0.25, "why")
    plugin = RecordedDecisions([rec])
    assert plugin._signals[("s", 5, "Y")] == [rec]  # keyed by the bar it was decided on


def test_cli_says_where_a_tampered_journal_differs_and_refuses_bad_options(
    recorded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = recorded / "events.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    i = next(n for n, x in enumerate(lines) if b'"kind":"fill"' in x)
    lines[i] = lines[i].replace(b'"fee":', b'"fee":1', 1)
    log.write_bytes(b"".join(lines))

    assert main(["journal", "replay", str(recorded)]) == 1
    assert f"event {i} differs" in capsys.readouterr().out
    assert main(["journal", "replay", str(recorded), "--swap", "a=nobody"]) == 2
    assert main(["journal", "replay", str(recorded), "--fees-bps", "-1"]) == 2


def test_a_windowed_margin_run_replays_exactly(
    run_files: Callable[..., Any], tmp_path: Path
) -> None:
    """The replay used to ignore the recorded account (a margin account's shorts were refused)
    and the [run] window (the full file's data hash never matched the recording)."""
    files = run_files(bars=400, extra='[account]\ntype = "margin"\nmax_leverage = 2.0\n')
    rows = Path(files.data).read_text().splitlines()
    start = rows[151].split(",")[0]  # the 150th bar's time: 100 warm-up bars before it
    text = files.config.read_text()
    text = text.replace(
        "initial_cash = 10000.0", f'initial_cash = 10000.0\nstart = "{start}"\nwarmup_bars = 100'
    )
    text = text.replace("params = {{ fast = 4, slow = 12 }}".replace("{{", "{").replace("}}", "}"),
                        "params = { fast = 4, slow = 12, allow_short = true }")  # fmt: skip
    files.config.write_text(text)
    recorded = run_session(files.load())
    assert recorded.journal_path is not None
    assert any(r["position_after"] < 0 for r in _kinds(recorded.journal_path, "fill"))

    result = replay_run(recorded.journal_path.parent, out=tmp_path / "r")

    assert result.exact
