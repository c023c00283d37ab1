"""The telemetry channel: bounded, never blocking, counts drops, never touches the journal."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from pathlib import Path

import pytest

from papertape.engine.errors import ConfigError
from papertape.engine.telemetry import TelemetryChannel, TelemetrySample


def sample(t: int) -> TelemetrySample:
    return TelemetrySample(t, 0.0, {"a": 100.0 + t}, {"a": {"X": 1.0}}, {"X": 10.0}, {}, None)


def test_a_full_channel_drops_and_counts_instead_of_blocking() -> None:
    channel = TelemetryChannel(capacity=3)

    taken = [channel.offer(sample(t)) for t in range(5)]

    assert taken == [True, True, True, False, False]
    assert (channel.offered, channel.dropped) == (5, 2)
    assert [s.time for s in channel.drain()] == [0, 1, 2]
    assert channel.offer(sample(9)) and [s.time for s in channel.drain()] == [9]


def test_one_producer_and_one_consumer_lose_nothing_but_the_counted_drops() -> None:
    channel = TelemetryChannel(capacity=64)
    got: list[int] = []
    done = threading.Event()

    def consume() -> None:
        while not done.is_set() or len(channel):
            got.extend(s.time for s in channel.drain())

    consumer = threading.Thread(target=consume)
    consumer.start()
    accepted = [t for t in range(20_000) if channel.offer(sample(t))]
    done.set()
    consumer.join(timeout=10)

    assert got == accepted  # in order, none twice
    assert len(accepted) + channel.dropped == 20_000


def test_monitors_iterate_asynchronously_until_closed() -> None:
    channel = TelemetryChannel()

    async def monitor() -> list[int]:
        return [s.time async for s in channel]

    def produce() -> None:
        for t in range(100):
            channel.offer(sample(t))
        channel.close()

    async def main() -> list[int]:
        task = asyncio.create_task(monitor())
        await asyncio.sleep(0.01)
        await asyncio.to_thread(produce)
        return await asyncio.wait_for(task, 5)

    assert asyncio.run(main()) == list(range(100))
    assert not channel.offer(sample(1)) and channel.dropped == 1


def test_bad_sizes_are_config_errors() -> None:
    with pytest.raises(ConfigError):
        TelemetryChannel(capacity=0)
    with pytest.raises(ConfigError):
        TelemetryChannel(every=0)


def test_samples_are_frozen_values() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        sample(1).time = 2  # type: ignore[misc]


def test_the_journal_is_byte_identical_with_and_without_a_channel(tmp_path: Path) -> None:
    from papertape.engine.config import parse_config
    from papertape.engine.session import build_engine

    raw = {
        "run": {"name": "tele"},
        "data": [{"path": "sp500_daily.csv", "symbol": "SPX"}],
        "strategies": [{"name": "sma_cross", "params": {"fast": 10, "slow": 30}}],
        "plugins": {"entry_points": False},
    }
    logs = []
    for i, channel in enumerate([None, TelemetryChannel(capacity=16)]):
        config = parse_config({**raw, "journal": {"dir": str(tmp_path / str(i))}})
        engine, writer = build_engine(config, journal=True)
        engine.settings = dataclasses.replace(engine.settings, **{"telemetry": channel})
        engine.run_sync()
        assert writer is not None
        writer.close()
        logs.append(writer.path.read_bytes())
        if channel is not None:
            assert channel.offered > 0 and channel.dropped > 0  # nobody drained: it dropped
    assert logs[0] == logs[1]
