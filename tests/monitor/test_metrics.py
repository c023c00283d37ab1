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
