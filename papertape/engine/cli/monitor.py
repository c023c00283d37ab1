"""``papertape monitor RUN_DIR`` and ``papertape run CONFIG --tui``: the terminal monitor.

Textual is imported only when a monitor is opened, so the core works without the ``tui``
extra; without it these commands say how to install it.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from rich.console import Console

from papertape.engine.errors import ConfigError

if TYPE_CHECKING:
    from papertape.engine.config import RunConfig

__all__ = ["register", "run_with_monitor"]

MONITOR_HELP = """\
Open a run folder in the terminal monitor: equity curves, leaderboard, positions with entry,
stop and target, prices and regime, shield states, the journal (filterable), each decision
with its reasoning, and a scrubber to see every panel as it was at any moment.

A finished run opens at its end; a running one (another process writes it, e.g.
`papertape run CONFIG`) is followed live. Keys: space pause/resume, [ ] scrub, home/end,
+ - speed, t trader, k kind filter, d/enter decision, ? help, q quit (docs/monitor.md).

examples:
  papertape monitor journals/demo-e227e9785cd0
  papertape run configs/demo.toml --tui
"""

_MISSING = "the monitor needs the tui extra: pip install 'papertape[tui]'"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``monitor`` subcommand."""
    p = sub.add_parser(
        "monitor",
        help="open a run folder (finished or running) in the terminal monitor",
        description=MONITOR_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="run folder, e.g. journals/<run-id>")
    p.set_defaults(handler=_monitor)


def _monitor(args: argparse.Namespace) -> int:
    from pathlib import Path

    folder = Path(args.run_dir)
    if not (folder / "events.jsonl").exists():
        raise ConfigError("RUN_DIR", args.run_dir, "no events.jsonl there (not a run folder)")
    try:
        from papertape.monitor.app import MonitorApp
        from papertape.monitor.source import RunFolder
    except ImportError as exc:
        raise ConfigError("--tui", str(exc), _MISSING) from None
    source = RunFolder(folder)
    try:
        MonitorApp(source).run()
    finally:
        source.close()
    return 0


def run_with_monitor(config: RunConfig) -> int:
    """Run a session in a worker thread and watch it; report where its journal is after."""
    try:
        from papertape.monitor.app import MonitorApp
        from papertape.monitor.source import InProcessSession
    except ImportError as exc:
        raise ConfigError("--tui", str(exc), _MISSING) from None
    if config.run.mode == "live":
        raise ConfigError("--tui", "live", "live sessions: run them, then `papertape monitor`")
    session = InProcessSession(config)
    session.start()
    MonitorApp(session, max_duty=0.05).run()
    err = Console(stderr=True)
    if session.running:
        err.print("monitor closed; the run goes on until it ends (Ctrl-C interrupts it) ...")
        session.join()
    if session.error is not None:
        raise session.error
    if session.run_dir is not None:
        err.print(f"journal: {session.run_dir}/events.jsonl")
    return 0
