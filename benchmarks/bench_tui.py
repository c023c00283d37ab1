"""Does the monitor slow the engine? Engine bars/s with and without ``--tui``.

Run: ``python benchmarks/bench_tui.py [--bars N] [--repeat R]``. Not a timed test: the
figures depend on the machine and its load; the issue's target is that bars/s with the
monitor stays within 10 % of bars/s without it.

Every arm runs the same session (synthetic 1-minute bars, two ``sma_cross`` strategies with
a drawdown shield, journal on); the arms alternate, ``--repeat`` rounds:

* ``plain``: ``papertape run`` (``build_engine`` + ``run_sync`` here);
* ``child``: ``papertape run --tui`` today: the engine in a child process
  (:class:`~papertape.monitor.child.ChildSession`) with its telemetry side file, a headless
  ``MonitorApp`` following its run folder;
* ``thread``: the former ``--tui`` (engine in a worker thread of the monitor's process,
  :class:`~papertape.monitor.source.InProcessSession`), for comparison.

Each arm's bars/s is the engine's steps over its own run time (wall), and over its own CPU
time (the engine process's CPU for ``plain`` and ``child``; the whole process for
``thread``, which shares it with the monitor). The best of the rounds is kept (load on a
shared machine only ever slows a run); the ratios compare best wall bars/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from papertape.engine.config import RunConfig, parse_config
from papertape.engine.session import build_engine
from papertape.engine.watch import ENGINE_FILE
from papertape.monitor.app import MonitorApp
from papertape.monitor.child import ChildSession
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


def plain(cfg: RunConfig) -> tuple[float, float]:
    """Bars/s (wall, CPU) of a session as ``papertape run`` runs it."""
    engine, writer = build_engine(cfg)
    start, cpu = time.perf_counter(), time.process_time()
    try:
        engine.run_sync()
    finally:
        if writer is not None:
            writer.close()
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return engine.step_count / wall, engine.step_count / cpu


async def in_thread(cfg: RunConfig) -> tuple[float, float]:
    """Bars/s (wall, process CPU) under the former in-process monitor."""
    session = InProcessSession(cfg)
    app = MonitorApp(session, max_duty=0.05)
    cpu = time.process_time()
    async with app.run_test(size=(140, 45)) as pilot:
        session.start()
        while session.running:
            await pilot.pause(0.1)
    cpu = time.process_time() - cpu
    return session.steps / session.seconds, session.steps / cpu


async def in_child(cfg: RunConfig) -> tuple[float, float]:
    """Bars/s (wall, the child's engine CPU) as ``papertape run --tui`` runs it now."""
    session = ChildSession(cfg)
    try:
        session.launch()  # as `papertape run --tui`: the monitor starts while the child loads
        app = MonitorApp(session, max_duty=0.1)  # as `papertape run --tui` opens it
        async with app.run_test(size=(140, 45)) as pilot:
            while session.running or session.reader is None:
                await pilot.pause(0.1)
                if app.error:
                    break
        session.raise_failure()
        facts = json.loads((session.folder / ENGINE_FILE).read_text(encoding="utf-8"))
    finally:
        session.stop()
        session.cleanup()
    return facts["steps"] / facts["seconds"], facts["steps"] / facts["cpu_s"]


def main() -> None:
    """Run the arms, alternating, and print bars/s and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-thread", action="store_true", help="skip the former arm")
    args = parser.parse_args()
    arms = ["plain", "child"] + ([] if args.no_thread else ["thread"])
    best = {arm: (0.0, 0.0) for arm in arms}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data = folder / "bars.csv"
        write_bars(data, args.bars)
        for i in range(args.repeat):
            for arm in arms:
                cfg = config(data, folder / f"{arm}{i}")
                if arm == "plain":
                    wall, cpu = plain(cfg)
                elif arm == "child":
                    wall, cpu = asyncio.run(in_child(cfg))
                else:
                    wall, cpu = asyncio.run(in_thread(cfg))
                best[arm] = (max(best[arm][0], wall), max(best[arm][1], cpu))
                print(f"round {i + 1} {arm:<6} {wall:>10,.0f} bars/s wall {cpu:>10,.0f} bars/cpu-s")
    print(f"bars={args.bars:,}, best of {args.repeat}:")
    for arm in arms:
        wall, cpu = best[arm]
        ratio = wall / best["plain"][0]
        verdict = "" if arm == "plain" else (" (within 10 %)" if ratio >= 0.9 else " (NOT within)")
        print(f"  {arm:<6} {wall:>10,.0f} bars/s wall ({ratio:.3f} of plain){verdict}, "
              f"{cpu:>10,.0f} bars/cpu-s ({cpu / best['plain'][1]:.3f})")  # fmt: skip


if __name__ == "__main__":
    main()
