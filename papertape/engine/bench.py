"""Throughput benchmark of the full pipeline, and the bare-loop yardstick it is compared with.

``run_bench`` replays synthetic (seeded geometric Brownian motion, 1-minute bars) or shipped
data through K SMA-crossover strategies on S symbols with the real engine: snapshot per bar,
strategy call, fraction sizer, shields when asked, execution with fees and slippage,
portfolio marking and the JSONL journal. ``bare_sma_loop`` is the floor: a plain Python loop
doing only the SMA-crossover arithmetic on the same closes.
"""

from __future__ import annotations

import math
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from papertape.engine.config import parse_config
from papertape.engine.execution.orders import Signal
from papertape.engine.feeds.base import BarSeries
from papertape.engine.session import build_engine, run_session
from papertape.engine.strategy import Strategy

if TYPE_CHECKING:
    from papertape.engine.portfolio import PortfolioView
    from papertape.engine.snapshot import Snapshot

__all__ = [
    "BenchResult",
    "FlipResult",
    "bare_sma_loop",
    "run_bench",
    "run_flip_bench",
    "synthetic_series",
]

MINUTE_NS = 60_000_000_000


def synthetic_series(
    symbol: str, bars: int, seed: int, start_ns: int = 1_500_000_000 * 10**9
) -> BarSeries:
    """Seeded GBM 1-minute bars with consistent OHLC."""
    rng = np.random.default_rng(seed)
    rets = rng.normal(0.0, 0.001, bars)
    close = 100.0 * np.exp(np.cumsum(rets))
    open_ = np.empty(bars)
    open_[0] = 100.0
    open_[1:] = close[:-1]
    wiggle = np.abs(rng.normal(0.0, 0.0005, bars))
    high = np.maximum(open_, close) * (1.0 + wiggle)
    low = np.minimum(open_, close) * (1.0 - wiggle)
    volume = rng.uniform(1.0, 100.0, bars)
    t = start_ns + np.arange(bars, dtype=np.int64) * MINUTE_NS
    return BarSeries.from_arrays(symbol, t, open_, high, low, close, volume, "synthetic")


def bare_sma_loop(closes: list[float], fast: int, slow: int) -> int:
    """The SMA-crossover arithmetic alone in a plain loop; returns the number of crosses."""
    fbuf = [0.0] * fast
    sbuf = [0.0] * slow
    fsum = ssum = 0.0
    above: bool | None = None
    crosses = 0
    for i, x in enumerate(closes):
        fi = i % fast
        si = i % slow
        fsum += x - fbuf[fi]
        fbuf[fi] = x
        ssum += x - sbuf[si]
        sbuf[si] = x
        if i + 1 >= slow:
            now = fsum / fast > ssum / slow
            if above is not None and now != above:
                crosses += 1
            above = now
    return crosses


@dataclass(frozen=True, slots=True)
class BenchResult:
    """Figures of one benchmark run."""

    bars: int
    symbols: int
    strategies: int
    seconds: float
    events_per_sec: float
    bar_strategy_per_sec: float
    ns_per_bar_strategy: float
    bare_loop_bars_per_sec: float
    ratio_to_bare_loop: float
    fast: int
    slow: int
    peak_rss_mb: float
    signals: int
    fills: int
    python: str
    # The same from process CPU time (session set-up included): steadier on a shared machine.
    cpu_seconds: float = 0.0
    cpu_bar_strategy_per_sec: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB."""
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024.0 if sys.platform != "darwin" else kb / 1024.0 / 1024.0


def run_bench(
    bars: int = 1_000_000,
    symbols: int = 1,
    strategies: int = 1,
    seed: int = 7,
    shields: bool = False,
    series: list[BarSeries] | None = None,
    fast: int = 20,
    slow: int = 50,
) -> BenchResult:
    """Replay ``bars`` bars per symbol through ``strategies`` SMA crossovers; time it.

    Strategy ``i`` uses windows ``fast + i`` / ``slow + 2i`` so that strategies differ.
    """
    data = series or [synthetic_series(f"SYM{i}", bars, seed + i) for i in range(symbols)]
    shield_cfg = (
        [
            {"name": "max_drawdown", "reduce_only_at": 0.5, "halt_at": 0.9, "release_at": 0.4},
            {"name": "exposure_cap", "max_gross": 1.0},
        ]
        if shields
        else []
    )
    with tempfile.TemporaryDirectory(prefix="papertape-bench-") as tmp:
        raw = {
            "run": {"name": "bench", "seed": seed},
            "data": [{"path": s.symbol} for s in data],
            "execution": {"maker_bps": 2.0, "taker_bps": 5.0, "slippage": {"bps": 1.0}},
            "strategies": [
                {
                    "name": "sma_cross",
                    "id": f"sma_{i}",
                    "params": {"fast": fast + i, "slow": slow + 2 * i},
                    "sizer": {"name": "fraction", "fraction": 0.5},
                    "shields": shield_cfg,
                }
                for i in range(strategies)
            ],
            "journal": {"dir": tmp},
            "plugins": {"entry_points": False},
        }
        cpu_start = time.process_time()
        result = run_session(parse_config(raw), series=data)
        cpu = time.process_time() - cpu_start
    total_bars = sum(len(s) for s in data)
    k = len(result.strategies)
    closes = data[0].close.tolist()
    t0 = time.perf_counter()
    bare_sma_loop(closes, fast, slow)
    bare = len(closes) / (time.perf_counter() - t0)
    eps = total_bars / result.seconds
    return BenchResult(
        bars=total_bars,
        symbols=len(data),
        strategies=k,
        seconds=round(result.seconds, 4),
        events_per_sec=round(eps),
        bar_strategy_per_sec=round(total_bars * k / result.seconds),
        ns_per_bar_strategy=round(result.seconds * 1e9 / (total_bars * k), 1),
        bare_loop_bars_per_sec=round(bare),
        ratio_to_bare_loop=round(eps / bare, 4) if math.isfinite(bare) and bare else 0.0,
        fast=fast,
        slow=slow,
        peak_rss_mb=round(peak_rss_mb(), 1),
        signals=result.event_counts.get("signal", 0),
        fills=result.event_counts.get("fill", 0),
        python=sys.version.split()[0],
        cpu_seconds=round(cpu, 4),
        cpu_bar_strategy_per_sec=round(total_bars * k / cpu) if cpu > 0 else 0.0,
    )


class _Quiet(Strategy):
    """Reads the bar and never signals: the pipeline's cost without any trading."""

    name = "bench_quiet"

    def on_bar(self, snap: Snapshot, portfolio: PortfolioView) -> Signal | None:
        return None


class _Flip(Strategy):
    """Long on odd bar counts, short on even ones: a signal, an order and a fill every bar."""

    name = "bench_flip"

    def on_bar(self, snap: Snapshot, portfolio: PortfolioView) -> Signal | None:
        return _LONG if snap.counts[snap.symbol_index] % 2 else _SHORT


_LONG = Signal.long()
_SHORT = Signal.short()


@dataclass(frozen=True, slots=True)
class FlipResult:
    """Per-signal cost: a strategy that flips every bar against one that never signals."""

    bars: int
    quiet_seconds: float
    flip_seconds: float
    signals: int
    fills: int
    ns_per_signal: float
    cpu_ns_per_signal: float  # the same from process CPU time: steadier on a shared machine

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def run_flip_bench(bars: int = 200_000, seed: int = 7) -> FlipResult:
    """Cost of one signal → order → fill → trade → journal, in ns.

    Runs the same data twice through the full pipeline with the journal: once with a strategy
    that never signals, once with one that flips long/short on every bar; the difference
    divided by the number of signals is what a signal costs.
    """
    data = [synthetic_series("SYM0", bars, seed)]
    seconds: dict[str, float] = {}
    cpu: dict[str, float] = {}
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="papertape-bench-") as tmp:
        for label, strategy in (("quiet", _Quiet()), ("flip", _Flip())):
            raw = {
                "run": {"name": f"bench-{label}", "seed": seed},
                "data": [{"path": "SYM0"}],
                "execution": {"maker_bps": 2.0, "taker_bps": 5.0, "slippage": {"bps": 1.0}},
                "strategies": [
                    {"name": "sma_cross", "id": label, "sizer": {"name": "fixed", "qty": 1.0}}
                ],
                "journal": {"dir": tmp},
                "plugins": {"entry_points": False},
            }
            engine, writer = build_engine(parse_config(raw), data)
            engine.slots[0].strategy = strategy  # the catalog knows only real strategies
            start = time.perf_counter()
            cpu_start = time.process_time()
            try:
                engine.run_sync()
            finally:
                if writer is not None:
                    writer.close()
            seconds[label] = time.perf_counter() - start
            cpu[label] = time.process_time() - cpu_start
            counts = engine.event_counts
    signals = counts.get("signal", 0)
    return FlipResult(
        bars=bars,
        quiet_seconds=round(seconds["quiet"], 4),
        flip_seconds=round(seconds["flip"], 4),
        signals=signals,
        fills=counts.get("fill", 0),
        ns_per_signal=round((seconds["flip"] - seconds["quiet"]) * 1e9 / max(signals, 1), 1),
        cpu_ns_per_signal=round((cpu["flip"] - cpu["quiet"]) * 1e9 / max(signals, 1), 1),
    )
