"""The Prometheus exporter: counts from hand-made events, and a scrape during a real run."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from papertape.engine.telemetry import TelemetrySample
from papertape.monitor.metrics import MetricsExporter

from .conftest import ROOT


def value(text: str, name: str, **labels: str) -> float | None:
    """One sample's value from an exposition text, or None."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return None


def test_events_are_counted_by_trader_action_and_reason() -> None:
    m = MetricsExporter()
    m.observe({"kind": "signal", "strategy": "a", "target": "long", "reason": "x"})
    m.observe({"kind": "signal", "strategy": "llm", "target": "long", "reason": "[llm#1] y"})
    m.observe({"kind": "llm_decision", "strategy": "llm", "action": "BUY", "reason_code": "ok",
               "latency_ms": 1500.0})  # fmt: skip
    m.observe({"kind": "llm_decision", "strategy": "llm", "action": "HOLD",
               "reason_code": "timeout", "latency_ms": 400.0})  # fmt: skip
    m.observe({"kind": "shield_tripped", "strategy": "a", "shield": "dd", "state": "halted"})
    m.observe({"kind": "feed_connected", "connection": 1})
    m.observe({"kind": "feed_connected", "connection": 2})
    from prometheus_client import generate_latest

    text = generate_latest(m.registry).decode()
    assert value(text, "papertape_decisions_total", trader="a", action="long") == 1
    assert value(text, "papertape_decisions_total", trader="llm", action="long") is None
    assert value(text, "papertape_decisions_total", trader="llm", action="BUY") == 1
    assert value(text, "papertape_invalid_decisions_total", trader="llm", reason="timeout") == 1
    assert value(text, "papertape_invalid_decisions_total", trader="llm", reason="ok") is None
    assert value(text, "papertape_llm_latency_seconds_count", trader="llm") == 2
    assert value(text, "papertape_llm_latency_seconds_bucket", trader="llm", le="1.0") == 1
    assert value(text, "papertape_shield_trips_total", trader="a", shield="dd",
                 state="halted") == 1  # fmt: skip
    assert value(text, "papertape_feed_reconnects_total") == 1


def test_telemetry_sets_equity_drawdown_steps_and_lag() -> None:
    m = MetricsExporter(telemetry_every=2)
    for t, eq in ((1, 100.0), (2, 120.0), (3, 90.0)):
        m.channel.offer(TelemetrySample(t, 0.0, {"a": eq}, {}, {}, {}, lag_ns=2_000_000_000))
    assert m.drain() == 3
    from prometheus_client import generate_latest

    text = generate_latest(m.registry).decode()
    assert value(text, "papertape_steps_total") == 6
    assert value(text, "papertape_equity", trader="a") == 90.0
    assert value(text, "papertape_drawdown_ratio", trader="a") == pytest.approx(0.25)
    assert value(text, "papertape_feed_lag_seconds") == 2.0


SCRIPT = """
import sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from monitor.conftest import quick_config
from papertape.engine.config import parse_config
from papertape.monitor.metrics import run_with_metrics
config = quick_config(Path({journals!r}), start="2010-01-01")
data = config.canonical()
data["strategies"].append({{"name": "slow_hold", "id": "slow", "params": {{"sleep_ms": 3.0}}}})
data["plugins"]["strategy_dirs"] = [{strategies!r}]
run_with_metrics(parse_config(data, config.base_dir), {port})
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.mark.slow
def test_scrape_during_a_run(tmp_path: Path) -> None:
    port = _free_port()
    script = SCRIPT.format(
        tests=str(ROOT / "tests"),
        journals=str(tmp_path),
        strategies=str(Path(__file__).parent / "data" / "slow_strategies"),
        port=port,
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    try:
        scrapes: list[str] = []
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
                    scrapes.append(r.read().decode())
            except OSError:
                pass
            time.sleep(0.3)
        assert proc.wait(timeout=60) == 0
        during = [t for t in scrapes if (value(t, "papertape_steps_total") or 0) > 0]
        assert len(during) >= 2, "no scrape saw the run in progress"
        first, last = during[0], during[-1]
        assert value(last, "papertape_steps_total") > value(first, "papertape_steps_total")  # type: ignore[operator]
        assert value(last, "papertape_equity", trader="sma_20_100") is not None
        assert (value(last, "papertape_event_delivery_seconds_count") or 0) > 0
        assert (value(last, "papertape_fills_total", trader="slow") or 0) >= 1
        assert (value(last, "papertape_bars_per_second") or 0) > 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_followed_run_counts_its_steps_from_the_side_file_and_the_journal() -> None:
    m = MetricsExporter()
    started = {"kind": "run_started", "seq": 0, "time": 1}
    # The side file is read ahead of the journal: samples before the run's run_started.
    m.follow([], [TelemetrySample(1, 1000.0, {"a": 100.0}, {}, {}, {})], step=8)
    m.follow(
        [started, {"kind": "fill", "seq": 1, "time": 2, "strategy": "a"}],
        [TelemetrySample(2, 1002.0, {"a": 80.0}, {}, {}, {})],
        step=48,
    )
    from prometheus_client import generate_latest

    text = generate_latest(m.registry).decode()
    assert value(text, "papertape_steps_total") == 48
    assert value(text, "papertape_bars_per_second") == pytest.approx(20.0)  # 40 steps in 2 s
    assert value(text, "papertape_equity", trader="a") == 80.0
    assert value(text, "papertape_drawdown_ratio", trader="a") == pytest.approx(0.2)
    assert value(text, "papertape_fills_total", trader="a") == 1
    # The run ends after its last sample; an arena's next window adds its own steps.
    m.follow([{"kind": "run_finished", "seq": 2, "time": 3, "bars": 50}], [], step=48)
    m.follow([started], [TelemetrySample(1, 1003.0, {"b": 10.0}, {}, {}, {})], step=4)
    text = generate_latest(m.registry).decode()
    assert value(text, "papertape_steps_total") == 54


@pytest.mark.slow
@pytest.mark.anyio
async def test_scrape_the_monitor_of_a_run_in_a_child_process(tmp_path: Path) -> None:
    """``papertape run CONFIG --tui --metrics-port P``: the monitor's process serves them."""
    import asyncio

    from papertape.monitor.app import MonitorApp
    from papertape.monitor.child import ChildSession

    from .test_child import slow_config

    port = _free_port()
    exporter = MetricsExporter()
    exporter.serve(port)

    def scrape() -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
            text: str = r.read().decode()
            return text

    session = ChildSession(slow_config(tmp_path / "journals", sleep_ms=2.0), poll=0.02)
    try:
        session.start()
        app = MonitorApp(session, refresh_s=0.05, metrics=exporter)
        scrapes: list[str] = []
        async with app.run_test(size=(140, 45)) as pilot:
            for _ in range(1200):
                await pilot.pause(0.05)
                if len(scrapes) < 200 and not app.state().finished:
                    scrapes.append(await asyncio.to_thread(scrape))
                if app.state().finished and not session.running:
                    break
            await pilot.pause(0.2)
        final = scrape()
        result = session.result()
        assert result is not None
        during = [t for t in scrapes if (value(t, "papertape_steps_total") or 0) > 0]
        assert len(during) >= 2, "no scrape saw the run in progress"
        first, last = (value(t, "papertape_steps_total") or 0 for t in (during[0], during[-1]))
        assert last > first
        assert (value(during[-1], "papertape_bars_per_second") or 0) > 0
        assert value(during[-1], "papertape_equity", trader="sma_20_100") is not None
        # At the end the monitor's figures are the run's own.
        assert value(final, "papertape_steps_total") == result.bars
        fills = sum(
            s.value
            for family in text_string_to_metric_families(final)
            for s in family.samples
            if s.name == "papertape_fills_total"
        )
        assert fills == result.event_counts.get("fill", 0) > 0  # every fill, none twice
    finally:
        session.close()
        session.stop()
        session.cleanup()
