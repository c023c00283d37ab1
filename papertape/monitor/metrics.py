"""Prometheus metrics of a running session (``papertape run CONFIG --metrics-port P``).

:class:`MetricsExporter` reads what the monitor reads, never the engine's internals:

* the event stream, as a plugin (``papertape_events``): decisions by trader and action,
  invalid LLM decisions by reason code, LLM latency (histogram), shield trips, fills, feed
  reconnects and gaps; a hook wrapper times each batch's delivery, which includes the
  journal's group commit (``papertape_event_delivery_seconds``);
* the lossy telemetry channel, drained by a daemon thread: engine steps, bars/s, equity and
  drawdown per trader, feed lag. A slow scraper can only make samples drop, never slow the
  engine.

A monitor in another process (``papertape run CONFIG --tui --metrics-port P``, ``papertape
monitor RUN_DIR --metrics-port P``) feeds the same metrics from what it follows instead
(:meth:`MetricsExporter.follow`): the journal's events and the telemetry side file's
samples, whose lines carry the engine's step count. Only the delivery histogram is measured
inside the engine's process and stays empty there.

Metrics live in their own ``CollectorRegistry`` (several sessions in one process, and tests,
do not collide) served by ``prometheus_client.start_http_server`` on 127.0.0.1.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from papertape.engine.errors import ConfigError
from papertape.engine.hookspecs import hookimpl
from papertape.engine.journal import encode_event
from papertape.engine.telemetry import TelemetryChannel, TelemetrySample

if TYPE_CHECKING:
    from papertape.engine.config import RunConfig
    from papertape.engine.events import Event
    from papertape.engine.session import SessionResult

__all__ = ["MetricsExporter", "run_with_metrics"]

_LLM_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300)


class MetricsExporter:
    """Prometheus metrics from a session's events and telemetry.

    Args:
        telemetry_every: Take a telemetry sample every N engine steps.
    """

    def __init__(self, telemetry_every: int = 1) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.channel = TelemetryChannel(capacity=1024, every=telemetry_every)
        self.steps = Counter("papertape_steps", "Engine steps (timestamps) processed", registry=r)
        self.bars_per_second = Gauge(
            "papertape_bars_per_second", "Engine steps per wall-clock second, recent", registry=r
        )
        self.equity = Gauge("papertape_equity", "Equity per trader", ["trader"], registry=r)
        self.drawdown = Gauge(
            "papertape_drawdown_ratio", "Drawdown from the peak per trader", ["trader"], registry=r
        )
        self.feed_lag = Gauge("papertape_feed_lag_seconds", "Live feed lag", registry=r)
        self.feed_reconnects = Counter(
            "papertape_feed_reconnects", "Live feed reconnections", registry=r
        )
        self.feed_gaps = Counter("papertape_feed_gaps", "Live feed gaps detected", registry=r)
        self.decisions = Counter(
            "papertape_decisions", "Decisions by trader and action", ["trader", "action"],
            registry=r,
        )  # fmt: skip
        self.invalid = Counter(
            "papertape_invalid_decisions", "LLM decisions turned into HOLD, by reason",
            ["trader", "reason"], registry=r,
        )  # fmt: skip
        self.llm_latency = Histogram(
            "papertape_llm_latency_seconds", "LLM call latency", ["trader"],
            buckets=_LLM_BUCKETS, registry=r,
        )  # fmt: skip
        self.shield_trips = Counter(
            "papertape_shield_trips", "Shield trips", ["trader", "shield", "state"], registry=r
        )
        self.fills = Counter("papertape_fills", "Fills", ["trader"], registry=r)
        self.delivery = Histogram(
            "papertape_event_delivery_seconds",
            "Time to deliver one tick's events to consumers (journal write included)",
            registry=r,
        )
        self._peaks: dict[str, float] = {}
        self._last: tuple[float, int] | None = None  # (wall time, steps) of the last sample
        self.step_total = 0
        self._runs_steps = 0  # steps of the runs followed before the current one (arenas)
        self._run_steps = 0  # steps of the run followed now
        self._started = False  # whether a run_started was followed
        self._thread: threading.Thread | None = None

    # -- events ----------------------------------------------------------------------------

    @hookimpl(wrapper=True)
    def papertape_events(self, events: Sequence[Event]) -> Generator[None, None, None]:
        """Time each batch's delivery and count what it holds."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.delivery.observe(time.perf_counter() - start)
            for event in events:
                self.observe(_as_dict(event))

    def observe(self, ev: dict[str, Any]) -> None:
        """Count one journal event (a dict as written in ``events.jsonl``)."""
        kind = ev.get("kind")
        trader = str(ev.get("strategy", ""))
        if kind == "signal":
            if not str(ev.get("reason", "")).startswith("["):  # an LLM's is counted below
                self.decisions.labels(trader, str(ev.get("target", ""))).inc()
        elif kind == "llm_decision":
            self.decisions.labels(trader, str(ev.get("action", ""))).inc()
            code = str(ev.get("reason_code", "ok"))
            if code != "ok":
                self.invalid.labels(trader, code).inc()
            self.llm_latency.labels(trader).observe(float(ev.get("latency_ms") or 0.0) / 1000)
        elif kind == "shield_tripped":
            self.shield_trips.labels(trader, str(ev["shield"]), str(ev["state"])).inc()
        elif kind == "fill":
            self.fills.labels(trader).inc()
        elif kind == "feed_connected" and int(ev.get("connection", 1)) > 1:
            self.feed_reconnects.inc()
        elif kind == "feed_gap":
            self.feed_gaps.inc()

    # -- telemetry -------------------------------------------------------------------------

    def drain(self) -> int:
        """Fold the buffered telemetry samples into the gauges; returns how many."""
        samples = self.channel.drain()
        for s in samples:
            self.steps.inc(self.channel.every)
            self.step_total += self.channel.every
            self._sample(s)
        if samples:
            self._rate(time.monotonic())
        return len(samples)

    def follow(
        self, events: Sequence[dict[str, Any]], samples: Sequence[TelemetrySample], step: int | None
    ) -> None:
        """Fold what a monitor read from a run folder: journal events, telemetry samples.

        Args:
            events: Journal events (dicts as in ``events.jsonl``), oldest first.
            samples: Telemetry samples read from the side file, oldest first.
            step: The engine's step count at the newest sample (the side file's ``step``),
                or None when unknown. A new run (an arena's next window: ``run_started``)
                adds its steps to the previous runs'.
        """
        for ev in events:
            kind = ev.get("kind")
            if kind == "run_started":
                # The side file may be read ahead of the journal: the first run's samples
                # can come before its run_started; only a later run starts a new count.
                if self._started:
                    self._runs_steps += self._run_steps
                    self._run_steps = 0
                self._started = True
            elif kind == "run_finished":
                self._run_steps = max(self._run_steps, int(ev.get("bars") or 0))
            self.observe(ev)
        for s in samples:
            self._sample(s)
        if step is not None:
            self._run_steps = max(self._run_steps, step)
        total = self._runs_steps + self._run_steps
        if total > self.step_total:
            self.steps.inc(total - self.step_total)
            self.step_total = total
            # The engine's own clock: the newest sample's wall time (else this process's).
            self._rate(samples[-1].wall_time if samples else time.time())

    def _sample(self, s: TelemetrySample) -> None:
        for trader, eq in s.equity.items():
            peak = self._peaks[trader] = max(self._peaks.get(trader, eq), eq)
            self.equity.labels(trader).set(eq)
            self.drawdown.labels(trader).set(0.0 if peak <= 0 else max(0.0, 1 - eq / peak))
        if s.lag_ns is not None:
            self.feed_lag.set(s.lag_ns / 1e9)

    def _rate(self, now: float) -> None:
        """Set bars/s from the steps counted since the last call ``now`` seconds later."""
        steps = self.step_total
        if self._last is not None and now > self._last[0]:
            self.bars_per_second.set((steps - self._last[1]) / (now - self._last[0]))
        self._last = (now, steps)

    def serve(self, port: int, addr: str = "127.0.0.1") -> None:
        """Serve ``/metrics`` on ``addr:port`` (for a monitor feeding :meth:`follow`).

        Raises:
            ConfigError: The port cannot be bound.
        """
        try:
            start_http_server(port, addr=addr, registry=self.registry)
        except OSError as exc:
            raise ConfigError("--metrics-port", port, f"cannot serve there: {exc}") from None

    def start(self, port: int, addr: str = "127.0.0.1") -> None:
        """Serve ``/metrics`` on ``addr:port`` and start draining telemetry every 0.5 s."""
        self.serve(port, addr)
        self._thread = threading.Thread(target=self._drain_loop, name="papertape-metrics")
        self._thread.daemon = True
        self._thread.start()

    def _drain_loop(self) -> None:
        while not self.channel.closed:
            self.drain()
            time.sleep(0.5)
        self.drain()


def _as_dict(event: Event) -> dict[str, Any]:
    import orjson

    out: dict[str, Any] = orjson.loads(encode_event(event, 0))
    return out


def run_with_metrics(config: RunConfig, port: int) -> SessionResult:
    """Run a (replay/backtest) session while serving its metrics on 127.0.0.1:``port``."""
    from papertape.engine.session import build_engine, results_of

    exporter = MetricsExporter()
    exporter.start(port)
    engine, writer = build_engine(config, extra_plugins=[exporter])
    engine.settings.telemetry = exporter.channel
    start = time.perf_counter()
    try:
        engine.run_sync()
    finally:
        if writer is not None:
            writer.close()
        exporter.channel.close()
    exporter.drain()
    return results_of(engine, time.perf_counter() - start, writer)
