"""Does the monitor slow the engine? Engine bars/s with and without ``--tui``.

Run: ``python benchmarks/bench_tui.py [--bars N] [--repeat R]``. Not a timed test: the
figures depend on the machine and its load; the issue's target is that bars/s with the
monitor stays within 10 % of bars/s without it.

Both arms run the same session (synthetic 1-minute bars, two ``sma_cross`` strategies with a
drawdown shield, journal on). "plain" is ``run_session``'s path; "tui" runs the engine in
the monitor's worker thread with telemetry every step while a headless ``MonitorApp``
redraws a few times a second. Each arm's bars/s is the engine's steps over its own run time;
the best of ``--repeat`` runs is kept (load on a shared machine only ever slows a run).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import numpy as np

from papertape.engine.config import RunConfig, parse_config
from papertape.engine.session import build_engine
from papertape.monitor.app import MonitorApp
from papertape.monitor.source import InProcessSession


def write_bars(path: Path, n: int, seed: int = 7) -> None:
    """A seeded random walk of ``n`` 1-minute bars as CSV."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.001, n)))
    open_ = np.concatenate([[close[0]], close[:-1]])
    high = np.maximum(open_, close) * 1.0005
    low = np.minimum(open_, close) * 0.9995
    t0 = np.datetime64("2024-01-01T00:00")
    times = t0 + np.arange(n).astype("timedelta64[m]")
    with open(path, "w") as fh:
        fh.write("time,open,high,low,close,volume\n")
        for i in range(n):
            fh.write(f"{times[i]},{open_[i]:.4f},{high[i]:.4f},{low[i]:.4f},{close[i]:.4f},1\n")


def config(data: Path, journals: Path) -> RunConfig:
    """Two SMA crosses with a drawdown shield, journaled."""
    shield = {"name": "max_drawdown", "reduce_only_at": 0.15, "halt_at": 0.35}
    return parse_config(
        {
            "run": {"name": "bench-tui", "initial_cash": 100000.0},
            "data": [{"path": str(data), "symbol": "SYN"}],
            "strategies": [
                {"name": "sma_cross", "id": "fast", "params": {"fast": 10, "slow": 40},
                 "shields": [shield]},
                {"name": "sma_cross", "id": "slow", "params": {"fast": 50, "slow": 200}},
            ],
            "journal": {"dir": str(journals)},
        },
        data.parent,
    )  # fmt: skip


def plain(cfg: RunConfig) -> float:
    """Bars/s of a session as ``papertape run`` runs it."""
    engine, writer = build_engine(cfg)
    start = time.perf_counter()
    try:
        engine.run_sync()
    finally:
        if writer is not None:
            writer.close()
    return engine.step_count / (time.perf_counter() - start)


async def with_monitor(cfg: RunConfig) -> tuple[float, int, int]:
    """Bars/s of the same session under a headless monitor; frames and samples dropped."""
    session = InProcessSession(cfg)
    app = MonitorApp(session, max_duty=0.05)  # as `papertape run --tui` opens it
    async with app.run_test(size=(140, 45)) as pilot:
        session.start()
        while session.running:
            await pilot.pause(0.1)
    return session.steps / session.seconds, app.frames_dropped, session.channel.dropped


def main() -> None:
    """Run both arms and print bars/s and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data = folder / "bars.csv"
        write_bars(data, args.bars)
        best_plain = best_tui = 0.0
        for i in range(args.repeat):
            best_plain = max(best_plain, plain(config(data, folder / f"plain{i}")))
            tui, frames, dropped = asyncio.run(with_monitor(config(data, folder / f"tui{i}")))
            best_tui = max(best_tui, tui)
            print(f"run {i + 1}: plain {best_plain:,.0f} bars/s, tui {tui:,.0f} bars/s "
                  f"(frames dropped {frames:,}, samples dropped {dropped:,})")  # fmt: skip
        ratio = best_tui / best_plain
        print(f"bars={args.bars:,} best plain {best_plain:,.0f} bars/s, best tui {best_tui:,.0f}"
              f" bars/s: tui/plain = {ratio:.3f} ({'within' if ratio >= 0.9 else 'NOT within'}"
              " 10 %)")  # fmt: skip


if __name__ == "__main__":
    main()
