"""Strategy code is contained: a time budget per call, sys.exit() is the strategy's failure."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
import time
from typing import Any

import pytest

from papertape.engine.containment import CallWatch
from papertape.engine.errors import RunInterrupted
from papertape.engine.execution.orders import Signal
from papertape.engine.snapshot import Snapshot
from papertape.engine.strategy import Strategy
from tests.conftest import Script, flat_bars, make_engine


class Sleeper(Strategy):
    name = "sleeper"

    def __init__(self, seconds: float, swallow: bool = False) -> None:
        super().__init__()
        self.seconds = seconds
        self.swallow = swallow
        self.calls = 0

    def on_bar(self, snap: Snapshot, portfolio: Any) -> Any:
        self.calls += 1
        if not self.swallow:
            time.sleep(self.seconds)
            return None
        end = time.monotonic() + self.seconds
        while time.monotonic() < end:  # a strategy that catches everything
            try:
                time.sleep(0.01)
            except Exception:
                continue
        return None


def _budgeted(budget: float, *strategies: tuple[str, Strategy], bars: int = 30) -> Any:
    engine, rec = make_engine(flat_bars([float(100 + i) for i in range(bars)]), list(strategies))
    engine.settings.strategy_budget_s = budget
    return engine, rec


def test_a_strategy_sleeping_5s_per_bar_is_cut_at_its_budget_and_disabled() -> None:
    slow = Sleeper(5.0)
    engine, rec = _budgeted(0.2, ("slow", slow), ("ok", Script({0: Signal.long()})))
    started = time.monotonic()
    engine.run_sync()
    took = time.monotonic() - started
    assert took < 3.0, f"three 0.2 s budgets took {took:.1f} s"
    failures = rec.kinds("strategy_failed")
    assert [f.strategy for f in failures] == ["slow"] * 3
    assert all("StrategyTimeout: time budget exceeded" in f.error for f in failures)
    (disabled,) = rec.kinds("strategy_disabled")
    assert disabled.strategy == "slow"
    assert slow.calls == 3
    ok = next(s for s in engine.slots if s.id == "ok")
    assert len(ok.portfolio.curve) == 30 and ok.enabled


def test_a_strategy_that_swallows_the_timeout_is_still_stopped() -> None:
    engine, rec = _budgeted(0.1, ("greedy", Sleeper(1.0, swallow=True)), bars=10)
    started = time.monotonic()
    engine.run_sync()
    assert time.monotonic() - started < 8.0
    assert rec.kinds("strategy_disabled")


def test_fast_strategies_never_time_out() -> None:
    engine, rec = _budgeted(0.05, ("a", Sleeper(0.01)), ("b", Sleeper(0.01)), bars=40)
    engine.run_sync()
    assert rec.kinds("strategy_failed") == []


def test_sys_exit_in_a_strategy_is_its_failure_not_the_runs_end() -> None:
    class Quitter(Strategy):
        name = "quitter"

        def on_bar(self, snap: Snapshot, portfolio: Any) -> Any:
            sys.exit(3)

    engine, rec = make_engine(
        flat_bars([1.0, 2.0, 3.0, 4.0, 5.0]),
        [("quit", Quitter()), ("ok", Script({0: Signal.long()}))],
    )
    engine.run_sync()
    failures = rec.kinds("strategy_failed")
    assert [f.error for f in failures] == ["SystemExit: 3"] * 3
    assert rec.kinds("strategy_disabled")[0].strategy == "quit"
    assert rec.kinds("run_finished")


def test_the_watch_is_off_outside_the_main_thread() -> None:
    seen: list[bool] = []

    def work() -> None:
        watch = CallWatch(0.1)
        with watch.running():
            seen.append(watch.enabled)

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    assert seen == [False]
    watch = CallWatch(0.1)
    with watch.running():
        assert watch.enabled
    assert not watch.enabled


def _ctrl_c_after(seconds: float) -> threading.Timer:
    timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    return timer


class Slow(Strategy):
    name = "slow"

    def __init__(self, awaiting: bool) -> None:
        super().__init__()
        self.awaiting = awaiting
        self.bars = 0

    def on_bar(self, snap: Snapshot, portfolio: Any) -> Any:
        self.bars += 1
        if self.awaiting:
            return asyncio.sleep(30.0)  # an LLM that takes its time
        time.sleep(0.01)
        return None


@pytest.mark.parametrize("awaiting", [False, True])
def test_one_ctrl_c_stops_the_replay_within_a_second(awaiting: bool) -> None:
    slow = Slow(awaiting)
    engine, rec = make_engine(flat_bars([float(100 + i) for i in range(2000)]), slow)
    timer = _ctrl_c_after(0.3)
    started = time.monotonic()
    try:
        with pytest.raises(RunInterrupted) as err:
            engine.run_sync()
    finally:
        timer.cancel()
    assert time.monotonic() - started < 1.3
    assert 0 < slow.bars < 2000
    assert err.value.step == engine.step_count < 2000
    assert rec.kinds("run_finished") == []
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_sys_exit_in_stats_is_contained() -> None:
    from papertape.engine.assembly import _strategy_stats

    class Quits(Strategy):
        name = "quits"

        def stats(self) -> dict[str, Any]:
            sys.exit(4)

    assert _strategy_stats(Quits()) == {}


def test_a_slow_decisions_failure_is_logged_with_its_own_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # An awaited decision's exception reaches the guard outside any except block: the log
    # printed "NoneType: None" where the traceback belonged.
    class Broken(Strategy):
        name = "broken"

        def on_bar(self, snap: Snapshot, portfolio: Any) -> Any:
            async def decide() -> None:
                raise ValueError("no model today")

            return decide()

    engine, _ = make_engine(flat_bars([1.0, 2.0, 3.0]), [("b", Broken())])
    with caplog.at_level("WARNING"):
        engine.run_sync()
    first = next(r for r in caplog.records if "raised ValueError" in r.getMessage())
    assert first.exc_info is not None and first.exc_info[0] is ValueError
    assert "NoneType: None" not in caplog.text
