"""A journal of an ensemble with a slow (LLM-like) member replays exactly, no member called."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from papertape.engine.config import load_config
from papertape.engine.journal import read_journal
from papertape.engine.journal.replay import replay_run
from papertape.engine.session import run_session

MEMBER_SOURCE = '''
import asyncio
from papertape.engine import Signal, Strategy
from papertape.engine.events import LlmDecision
from papertape.plugins.llm.sequencer import sequencer_for



def called(who):
    with open("member-calls.log", "a") as fh:  # in the test's working folder
        fh.write(who + "\\n")


class ScriptedLlm(Strategy):
    """Decides every 7 bars like an LLM trader: a journaled record, in its turn; BUY/HOLD/CLOSE."""

    name = "scripted_llm"

    def on_start(self, ctx):
        self.id, self.emit, self.seq, self.n = ctx.id, ctx.emit, sequencer_for(ctx.emit), 0

    def on_bar(self, snap, portfolio):
        called(self.id)
        self.n += 1
        if self.n % 7:
            return None
        return self._decide(snap, ("BUY", "HOLD", "CLOSE")[(self.n // 7) % 3], self.seq.turn())

    async def _decide(self, snap, action, turn):
        turn.started = True
        try:
            await asyncio.sleep(0.001 * (self.n % 3))
            await turn.wait()
            self.emit(LlmDecision(snap.time, self.id, f"{self.id}#{self.n}", snap.symbol, "test",
                                  "scripted", {}, "h", "k", action, {"action": action}, action,
                                  "ok", "", 1.0, 1, 1, 0.0))
        finally:
            turn.finish()
        if action == "BUY":
            return Signal.long(f"[{self.id}#{self.n}] up", size=0.8)
        if action == "CLOSE":
            return Signal.flat(f"[{self.id}#{self.n}] done")
        return None


class Flaky(Strategy):
    """A rule member that fails on every 25th bar."""

    name = "flaky_rule"

    def on_start(self, ctx):
        self.n = 0

    def on_bar(self, snap, portfolio):
        called("flaky")
        self.n += 1
        if self.n % 25 == 0:
            raise RuntimeError("flaky member")
        closes = snap.closes(5)
        if len(closes) < 5:
            return None
        return Signal.long() if closes[-1] > closes[0] else Signal.flat()
'''


def _write_run(root: Path) -> Path:
    rng = np.random.default_rng(11)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, 160)))
    lines = ["timestamp,open,high,low,close,volume"]
    prev = close[0]
    for i, c in enumerate(close):
        t = 1_600_000_000 + i * 86_400
        lines.append(
            f"{t},{prev:.6f},{max(prev, c) * 1.002:.6f},{min(prev, c) * 0.998:.6f},{c:.6f},1000"
        )
        prev = c
    (root / "walk.csv").write_text("\n".join(lines) + "\n")
    (root / "strategies").mkdir()
    (root / "strategies" / "ensemble_members.py").write_text(MEMBER_SOURCE)
    config = root / "run.toml"
    config.write_text(f"""
[run]
name = "vote"
initial_cash = 10000.0

[[data]]
path = "{root / "walk.csv"}"
symbol = "WALK"

[[strategies]]
name = "ensemble"
id = "vote"
params = {{ members = "scripted_llm@2; flaky_rule@1", max_member_errors = 99 }}
sizer = {{ name = "fraction", fraction = 0.5 }}

[[strategies]]
name = "sma_cross"
id = "rule"
params = {{ fast = 4, slow = 12 }}

[journal]
dir = "{root / "journals"}"
""")
    return config


def test_an_ensemble_journal_with_a_slow_member_replays_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # ./strategies holds the members
    result = run_session(load_config(_write_run(tmp_path)))
    assert result.journal_path is not None
    run_dir = result.journal_path.parent
    kinds = [r["kind"] for r in read_journal(run_dir)]
    reasons = {r["reason"] for r in read_journal(run_dir) if r["kind"] == "member_dropped"}
    assert kinds.count("llm_decision") >= 15 and reasons == {"abstained", "failed"}

    log = tmp_path / "member-calls.log"
    asked = log.read_text().count("\n")
    assert asked > 300  # both members, every bar
    replayed = replay_run(run_dir, out=tmp_path / "replay")
    assert log.read_text().count("\n") == asked  # no member was asked in the replay
    assert replayed.exact, replayed
