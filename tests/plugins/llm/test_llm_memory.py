"""Memory for traders: past situations recalled by market state, never before their outcome.

The hand-made tape repeats every 10 bars (closes ``100 * (1 + 0.05 sin(2 pi i / 10))``), so
the market features of bar ``i`` and bar ``i + 10`` are identical: a situation is exactly like
today's when its bar has today's phase. Past runs are scripted strategies on that tape (the
same scripted strategy as the journal-analysis tests), decisions at chosen bars.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from papertape.engine.config import load_config
from papertape.engine.journal import read_journal
from papertape.engine.journal.replay.rerun import replay_run
from papertape.engine.session import run_session
from papertape.plugins.llm.memory import MemoryIndex, Situation, market_features, memory_lines
from tests.analysis.journal.conftest import SCRIPTED
from tests.plugins.llm.conftest import Seen, WireServer, decision_json, ollama_reply

T0 = 946_684_800  # 2000-01-01, one bar a day
BARS = 150


def close(i: int) -> float:
    return 100.0 * (1.0 + 0.05 * math.sin(2.0 * math.pi * i / 10.0))


def bar_time(i: int) -> int:
    return (T0 + i * 86_400) * 10**9


def _tape(root: Path) -> Path:
    path = root / "tape.csv"
    if not path.exists():
        lines = ["timestamp,open,high,low,close,volume"]
        for i in range(BARS):
            o, c = close(i - 1) if i else close(0), close(i)
            lines.append(f"{T0 + i * 86_400},{o},{max(o, c)},{min(o, c)},{c},1000")
        path.write_text("\n".join(lines) + "\n")
    return path


def past_run(root: Path, name: str, plan: str) -> Path:
    """Run the scripted strategy with ``plan`` on the tape; journal under ``root/<name>``."""
    root.mkdir(parents=True, exist_ok=True)
    strats = root / "strats"
    strats.mkdir(exist_ok=True)
    (strats / "scripted.py").write_text(SCRIPTED)
    config = root / f"{name}.toml"
    config.write_text(f'''
[run]
name = "{name}"
initial_cash = 1000.0

[[data]]
path = "{_tape(root)}"
symbol = "TAPE"

[execution]
taker_bps = 0.0
maker_bps = 0.0
slippage = {{ model = "fixed", bps = 0.0 }}

[[strategies]]
name = "scripted"
id = "{name}"
params = {{ plan = "{plan}" }}
sizer = {{ name = "fixed", qty = 1.0 }}

[journal]
dir = "{root / "store"}"

[plugins]
strategy_dirs = ["{strats}"]
entry_points = false
''')
    run_session(load_config(config))
    (folder,) = (root / "store").glob(f"{name}-*")
    return folder


def _features(i: int) -> tuple[float, ...]:
    got = market_features(np.array([close(j) for j in range(i + 1)]))
    assert got is not None
    return got


def test_a_similar_situation_is_recalled_only_once_its_outcome_is_known(tmp_path: Path) -> None:
    # early: long on bar 57 (phase 7: unlike bar 80), outcome over 20 bars, known at bar 77.
    # (Not bar 55: at a zero crossing of the sine, like bar 70, its features equal bar 80's to
    # 1e-16, and which one is "closest" would be decided by rounding.)
    # late: long on bar 70 (phase 0: exactly like bar 80), known at bar 90; long again on
    # bar 120 (a later period than the query altogether), known at bar 140.
    past_run(tmp_path, "early", "57:long")
    past_run(tmp_path, "late", "70:long,120:long")
    index = MemoryIndex([tmp_path / "store"], horizon=20)
    assert len(index) == 3 and index.skipped == {}

    # Arrange: today is bar 80, flat, same phase as the late run's bar 70.
    at_80 = index.recall(1, bar_time(80), _features(80), 0)
    at_90 = index.recall(1, bar_time(90), _features(80), 0)
    at_90_all = index.recall(5, bar_time(90), _features(80), 0)

    # The only similar situation ends after bar 80: the dissimilar early one is recalled.
    assert [(s.strategy, s.time) for s in at_80] == [("early", bar_time(57))]
    assert at_80[0].known == bar_time(77) <= bar_time(80)
    # From bar 90 on its outcome is known, and it is the closest (distance 0).
    assert [(s.strategy, s.time) for s in at_90] == [("late", bar_time(70))]
    # The later period (bar 120) never leaks into a bar-90 decision.
    assert [s.time for s in at_90_all] == [bar_time(70), bar_time(57)]


def _situation(name: str, known: int, features: tuple[float, ...]) -> Situation:
    return Situation(
        name, "run", "s", "X", known - 1, known, features, None, 0, "long", "", 1, 0.0, 0.0
    )


def test_the_feature_scale_comes_only_from_situations_known_by_then() -> None:
    # Query (1, 0, 0, 0). "a" differs by 2 in feature 0, "b" by 0.02 in feature 1. Standardised
    # by a and b alone the two are equally far (a, known first, wins the tie); a situation
    # known only later, spread wide in feature 1, would shrink b's gap and flip the answer at
    # t=10 if it set the scale (it did, before: the whole index's mean and deviation).
    a = _situation("a", 1, (3.0, 0.0, 0.0, 0.0))
    b = _situation("b", 2, (1.0, 0.02, 0.0, 0.0))
    later = _situation("later", 100, (1.0, 50.0, 0.0, 0.0))
    query = (1.0, 0.0, 0.0, 0.0)
    alone = MemoryIndex.of([a, b]).recall(1, 10, query, 0)
    with_later = MemoryIndex.of([a, b, later]).recall(1, 10, query, 0)
    assert [x.id for x in alone] == [x.id for x in with_later]
    assert MemoryIndex.of([a, b, later]).recall(3, 100, query, 0)[0].id == "b"


def test_an_outcome_stops_at_the_next_decision_and_is_marked_to_market(tmp_path: Path) -> None:
    past_run(tmp_path, "trip", "55:long,60:flat")
    index = MemoryIndex([tmp_path / "store"], horizon=20)

    first, second = sorted(index.situations, key=lambda s: s.time)

    # Long on bar 55, filled at bar 56's open (= close of 55), marked at bar 60's close.
    assert (first.decision, first.position, first.bars) == ("long", 0, 5)
    assert first.known == bar_time(60)
    assert first.market_return == pytest.approx(close(60) / close(55) - 1.0)
    assert first.earned == pytest.approx(close(60) - close(55))
    # Flat on bar 60 while long: the next 20 bars (no later decision); it sold at bar 61's
    # open (= close of 60), so it earned nothing after.
    assert (second.decision, second.position, second.bars) == ("flat", 1, 20)
    assert second.known == bar_time(80)
    assert second.earned == pytest.approx(0.0, abs=1e-9)
    assert second.id.endswith(f"#{second.id.split('#')[1]}") and second.run == first.run


def test_unfinished_and_foreign_folders_are_skipped_with_a_reason(tmp_path: Path) -> None:
    run = past_run(tmp_path, "early", "55:long")
    torn = tmp_path / "store" / "torn"
    torn.mkdir()
    lines = (run / "events.jsonl").read_text().splitlines()
    (torn / "events.jsonl").write_text("\n".join(lines[:-1]) + "\n")  # no run_finished

    index = MemoryIndex([run, torn])

    assert len(index) == 1
    assert "not finished" in index.skipped[str(torn)]


def test_memory_lines_show_the_decision_and_what_followed(tmp_path: Path) -> None:
    past_run(tmp_path, "early", "55:long")
    (s,) = MemoryIndex([tmp_path / "store"]).situations

    (title, line) = memory_lines([s])

    assert title.startswith("Similar past situations")
    assert "[m1] 2000-02-25 TAPE" in line
    assert "early decided long (plan 55 long)" in line
    moved = (close(75) / close(55) - 1) * 100
    assert f"over the next 20 bars the price moved {moved:+.1f}%" in line


def _trader(tmp_path: Path, **params: Any) -> dict[str, Any]:
    base = {
        "provider": "ollama",
        "model": "llama3.2",
        "warmup": 81,  # decides on bars 80 and 90
        "every": 10,
        "decide_on": "",
        "timeout": 30.0,
        "cache_dir": str(tmp_path / "cache"),
    }
    return {"name": "llm_trader", "id": "llm", "params": {**base, **params}}


def _session(tmp_path: Path, name: str, entry: dict[str, Any]) -> Path:
    from papertape.engine.config import parse_config

    raw = {
        "run": {"name": name, "initial_cash": 1000.0, "end": "2000-04-10"},
        "data": [{"path": str(_tape(tmp_path)), "symbol": "TAPE"}],
        "strategies": [entry],
        "journal": {"dir": str(tmp_path / "runs" / name)},
        "plugins": {"entry_points": False},
    }
    result = run_session(parse_config(raw, tmp_path))
    assert result.journal_path is not None
    return result.journal_path


def test_the_trader_prompts_with_its_memory_journals_the_ids_and_replays_exactly(
    wire: WireServer, tmp_path: Path
) -> None:
    past_run(tmp_path, "early", "57:long")
    past_run(tmp_path, "late", "70:long,120:long")
    prompts: list[str] = []
    lock = threading.Lock()

    def answer(seen: Seen) -> Any:
        with lock:
            prompts.append("\n".join(m["content"] for m in seen.json["messages"]))
        return ollama_reply(decision_json(action="HOLD"))

    wire.on("/api/chat", answer)
    store = str(tmp_path / "store")

    # Decisions on bars 80 and 90 (the tape is cut before bar 100).
    run = _session(tmp_path, "with", _trader(tmp_path, memory=1, memory_from=[store]))
    plain = _session(tmp_path, "without", _trader(tmp_path))

    records = list(read_journal(run))
    decisions = [r for r in records if r["kind"] == "llm_decision"]
    assert [d["time"] for d in decisions] == [bar_time(80), bar_time(90)]
    early = next(read_journal(next((tmp_path / "store").glob("early-*"))))
    assert early["kind"] == "run_started"
    ids = [d["memory"] for d in decisions]
    assert [i[0].split("#")[0] for i in ids] == [early["run_id"], ids[1][0].split("#")[0]]
    assert ids[1][0].startswith("late-")  # known from bar 90 on, and the closest
    assert "[m1] 2000-02-27 TAPE" in prompts[0] and "[m1] 2000-03-11 TAPE" in prompts[1]
    # The memory is part of the prompt, so of the cache key: no answer is shared with the
    # run without memory, whose decisions journal no memory.
    bare = [r for r in read_journal(plain) if r["kind"] == "llm_decision"]
    assert [b["memory"] for b in bare] == [[], []]
    assert {d["cache_key"] for d in decisions}.isdisjoint(b["cache_key"] for b in bare)
    assert all("Similar past situations" not in p for p in prompts[2:])
    # journal stats counts what was recalled, per slot.
    from papertape.analysis.journal.stats import journal_stats

    used = journal_stats(run.parent, attribute=False).memory
    assert used == {"llm": {"decisions": 2, "recalled": 2, "distinct": 2}}
    # The journal replays byte for byte without any model.
    assert replay_run(run.parent, out=tmp_path / "replay").exact


def test_memory_without_a_source_is_a_config_error(tmp_path: Path) -> None:
    from papertape.engine.errors import ConfigError
    from papertape.strategies.llm_trader import LlmTrader

    with pytest.raises(ConfigError, match="memory_from"):
        LlmTrader(provider="ollama", model="m", memory=3)


def test_the_calibrated_decoder_reads_todays_position_after_the_memories(
    tmp_path: Path,
) -> None:
    from papertape.plugins.llm.fewshot import CONTEXT, DECISION_OPENER
    from papertape.plugins.llm.providers.local_fewshot import _position_of

    past_run(tmp_path, "early", "55:long")
    recalled = "\n".join(memory_lines(MemoryIndex([tmp_path / "store"]).situations))
    today = f"{CONTEXT}price 101; position: long, unrealised +1.0%\nDecision: {DECISION_OPENER}"

    assert "position none" in recalled
    assert _position_of(f"{recalled}\n\n{today}") == "long, unrealised +1.0%"


def test_an_llm_runs_valid_holds_are_memories_and_its_forced_holds_are_not(
    wire: WireServer, tmp_path: Path
) -> None:
    answers = iter([ollama_reply("not json at all"), ollama_reply(decision_json(action="HOLD"))])
    lock = threading.Lock()

    def answer(_seen: Seen) -> Any:
        with lock:
            return next(answers)

    wire.on("/api/chat", answer)
    run = _session(tmp_path, "llm", _trader(tmp_path))
    codes = [r["reason_code"] for r in read_journal(run) if r["kind"] == "llm_decision"]
    assert codes[0] != "ok" and codes[1] == "ok"

    (held,) = MemoryIndex([run.parent]).situations

    assert (held.strategy, held.time, held.decision) == ("llm", bar_time(90), "hold")


def test_whatif_runs_an_llm_config_live_in_a_slot_inside_the_window(
    wire: WireServer, tmp_path: Path
) -> None:
    from papertape.analysis.journal.whatif import what_if

    # Recorded: the trader holds on bars 80 and 90. Live from bar 85: a BUY-saying trader of
    # another config decides on bar 90 (its own model call), buys at bar 91's open.
    def answer(seen: Seen) -> Any:
        text = "\n".join(m["content"] for m in seen.json["messages"])
        buy = "aggressive momentum trader" in text
        return ollama_reply(decision_json(action="BUY" if buy else "HOLD", size=0.5))

    wire.on("/api/chat", answer)
    run = _session(tmp_path, "rec", _trader(tmp_path)).parent
    other = tmp_path / "other.toml"
    params = ", ".join(
        f'{k} = "{v}"' if isinstance(v, str) else f"{k} = {v}"
        for k, v in _trader(tmp_path, persona="aggressive")["params"].items()
    )
    other.write_text(f'[[strategies]]\nname = "llm_trader"\nid = "bold"\nparams = {{ {params} }}\n')

    result = what_if(run, {"llm": f"config:{other}#bold"}, start=bar_time(85))

    events = [e for e in read_journal(result.journal) if e.get("strategy") == "llm"]
    decided = [(e["time"], e["action"]) for e in events if e["kind"] == "llm_decision"]
    assert decided == [(bar_time(90), "BUY")]  # the recorded bar-80 HOLD is served, not journaled
    (fill,) = [e for e in events if e["kind"] == "fill"]
    assert fill["time"] == bar_time(91) and fill["price"] == pytest.approx(close(90))
    assert result.recorded["llm"]["final_equity"] == pytest.approx(1000.0)
    gain = fill["qty"] * (close(99) - close(90)) - fill["fee"]
    assert result.replayed["llm"]["final_equity"] == pytest.approx(1000.0 + gain)


def test_a_memory_source_with_nothing_to_recall_fails_the_trader_at_start(
    tmp_path: Path,
) -> None:
    from papertape.engine.errors import ConfigError
    from papertape.engine.strategy import StrategyContext
    from papertape.strategies.llm_trader import LlmTrader

    trader = LlmTrader(
        provider="ollama", model="m", memory=2, memory_from=[str(tmp_path / "nowhere")]
    )
    with pytest.raises(ConfigError, match="no run folder found"):
        trader.on_start(StrategyContext(id="llm", symbols=("X",), interval_ns=1))


def test_the_memory_cutoff_is_the_first_day_of_a_blind_tape() -> None:
    from datetime import UTC, datetime

    from papertape.arena.blind import BLIND_YEAR
    from papertape.plugins.llm.trader import BLIND_START

    assert int(datetime(BLIND_YEAR, 1, 1, tzinfo=UTC).timestamp()) * 10**9 == BLIND_START
