"""The telemetry side file and the control file: lossy, never in the journal, obeyed by replays."""

from __future__ import annotations

import time
from pathlib import Path

import orjson

from papertape.engine.telemetry import TelemetrySample
from papertape.engine.telemetry_file import (
    ControlState,
    RunControl,
    TelemetryFile,
    TelemetryTail,
    obeys_control,
    read_control,
    sample_from_json,
    sample_to_json,
    write_control,
)


class FakeClock:
    """A monotonic clock the test moves; ``sleep`` moves it too."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def sample(t: int, equity: float = 1000.0) -> TelemetrySample:
    return TelemetrySample(
        time=t,
        wall_time=1.5,
        equity={"a": equity},
        positions={"a": {"BTC": 0.5}},
        marks={"BTC": 20000.0},
        annotations={"regime": {"BTC": {"label": "calm", "probabilities": {"calm": 0.9}}}},
        lag_ns=7,
    )


def test_a_sample_survives_its_json_line() -> None:
    s = sample(42)
    back = sample_from_json(sample_to_json(s, feed={"connections": 2}))
    assert back.time == 42 and back.equity == {"a": 1000.0}
    assert back.positions == {"a": {"BTC": 0.5}} and back.lag_ns == 7
    assert back.annotations["regime"]["BTC"]["label"] == "calm"
    assert back.feed == {"connections": 2}


def test_offers_faster_than_the_interval_are_dropped_and_sampling_thins(tmp_path: Path) -> None:
    clock = FakeClock()
    outlet = TelemetryFile(tmp_path / "t.jsonl", interval_s=0.05, clock=clock, sleep=clock.sleep)
    for i in range(100):
        clock.now += 0.001  # a fast replay: 1000 offers a second
        outlet.offer(sample(i))
    outlet.close()
    lines = (tmp_path / "t.jsonl").read_bytes().splitlines()
    assert outlet.written == len(lines) == 2  # 0.1 s of offers, one line per 0.05 s
    assert outlet.dropped == 98
    assert outlet.every > 1  # the engine is asked for fewer samples
    for _ in range(40):
        clock.now += 1.0  # a slow (live) session: every step is worth a line
        outlet.offer(sample(0))
    assert outlet.every == 1


def test_the_tail_reads_whole_lines_only_and_skips_garbage(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    tail = TelemetryTail(path)
    assert tail.read() == []  # no file yet
    line = sample_to_json(sample(1))
    path.write_bytes(line + line[:10])
    assert [s.time for s in tail.read()] == [1]
    with open(path, "ab") as fh:
        fh.write(line[10:] + b"not json\n" + sample_to_json(sample(3)))
    assert [s.time for s in tail.read()] == [1, 3]
    assert tail.skipped == 1


def test_pause_waits_until_the_control_file_resumes(tmp_path: Path) -> None:
    clock = FakeClock()
    control = RunControl(tmp_path / "control.json", check_s=0.1)
    resumed_after = []

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if clock.now > 101.0 and not resumed_after:  # someone resumes after a second
            write_control(tmp_path, ControlState(paused=False))
            resumed_after.append(clock.now)

    outlet = TelemetryFile(tmp_path / "t.jsonl", control=control, clock=clock, sleep=sleep)
    write_control(tmp_path, ControlState(paused=True))
    outlet.offer(sample(1))
    assert resumed_after, "the offer returned while the control file said paused"
    assert 1.0 <= outlet.paused_s <= 1.2
    outlet.close()


def test_pace_sleeps_to_hold_the_asked_steps_per_second(tmp_path: Path) -> None:
    clock = FakeClock()
    control = RunControl(tmp_path / "control.json", check_s=0.0)
    outlet = TelemetryFile(tmp_path / "t.jsonl", control=control, clock=clock, sleep=clock.sleep)
    write_control(tmp_path, ControlState(pace=10.0))  # a monitor asks, once the run started
    start = clock.now
    for i in range(21):
        clock.now += 0.001  # the engine itself is fast
        outlet.offer(sample(i))
    assert outlet.every == 1
    assert 1.9 <= clock.now - start <= 2.2  # 20 steps after the first at 10 steps/s
    write_control(tmp_path, ControlState())
    for i in range(5):
        clock.now += 0.001
        outlet.offer(sample(i))
    assert clock.now - start < 2.3  # no pace: no more sleeping
    outlet.close()


def test_a_foreign_control_file_asks_nothing(tmp_path: Path) -> None:
    (tmp_path / "control.json").write_text("[1, 2", encoding="utf-8")
    assert RunControl(tmp_path / "control.json").refresh(1.0) == ControlState()


def test_each_line_carries_the_engines_step_while_sampling_thins(tmp_path: Path) -> None:
    clock = FakeClock()
    outlet = TelemetryFile(tmp_path / "t.jsonl", interval_s=0.05, clock=clock, sleep=clock.sleep)
    offered_at = []
    for step in range(1, 5001):  # the engine: offer at every `every`-th step
        clock.now += 0.0002 if step < 3000 else 0.03  # fast, then slow (every shrinks)
        if step % outlet.every == 0:
            outlet.offer(sample(step))
            offered_at.append(step)
    outlet.close()
    tail = TelemetryTail(tmp_path / "t.jsonl")
    samples = tail.read()
    assert len(offered_at) < 4000  # sampling did thin
    # Each written line's step is the step the engine was at (the sample's time here).
    lines = [orjson.loads(x) for x in (tmp_path / "t.jsonl").read_bytes().splitlines()]
    assert [d["step"] for d in lines] == [s.time for s in samples]
    assert tail.step == lines[-1]["step"] == samples[-1].time
    assert outlet.step == offered_at[-1]


def test_a_new_run_replaces_the_side_file_and_a_leftover_request(tmp_path: Path) -> None:
    (tmp_path / "t.jsonl").write_bytes(sample_to_json(sample(1)))  # a previous run's
    write_control(tmp_path, ControlState(paused=True))  # left paused by a crashed monitor
    assert not obeys_control(tmp_path / "elsewhere")
    outlet = TelemetryFile(tmp_path / "t.jsonl", control=RunControl(tmp_path / "control.json"))
    assert (tmp_path / "t.jsonl").read_bytes() == b""
    assert outlet.control is not None and outlet.control.refresh(1.0) == ControlState()
    assert obeys_control(tmp_path)  # a monitor that attaches knows it may pause this run
    outlet.close()


def test_a_window_obeys_whichever_control_file_was_written_last(tmp_path: Path) -> None:
    handover, window = tmp_path / "handover", tmp_path / "window"
    handover.mkdir()
    window.mkdir()
    control = RunControl(handover / "control.json", check_s=0.0)
    write_control(handover, ControlState(paused=True))  # the arena's monitor paused
    outlet = TelemetryFile(window / "t.jsonl", control=control)
    assert read_control(window / "control.json") == ControlState(paused=True)  # inherited
    assert control.refresh(1.0).paused
    time.sleep(0.01)
    write_control(window, ControlState(pace=8.0))  # a monitor attached to the window
    assert control.refresh(2.0) == ControlState(pace=8.0)
    time.sleep(0.01)
    write_control(handover, ControlState(paused=True))  # the arena's monitor again
    assert control.refresh(3.0) == ControlState(paused=True)
    outlet.close()
    assert control.paths == [handover / "control.json"]  # the next window brings its own
