"""``papertape monitor RUN_DIR`` and ``papertape run CONFIG --tui``: the terminal monitor.

Textual is imported only when a monitor is opened, so the core works without the ``tui``
extra; without it these commands say how to install it.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from rich.console import Console

from papertape.engine.errors import ConfigError, RunInterrupted

if TYPE_CHECKING:
    from pathlib import Path

    from papertape.arena.config import ArenaConfig
    from papertape.engine.assembly import SessionResult
    from papertape.engine.config import RunConfig
    from papertape.monitor.app import MonitorApp
    from papertape.monitor.metrics import MetricsExporter

__all__ = ["arena_with_monitor", "register", "run_with_monitor"]

MONITOR_HELP = """\
Open a run folder in the terminal monitor: equity curves, leaderboard, positions with entry,
stop and target, prices and regime, shield states, the journal (filterable), each decision
with its reasoning, and a scrubber to see every panel as it was at any moment.

A finished run opens at its end; a running one (another process writes it, e.g.
`papertape run CONFIG`) is followed live. A run started with --tui (or an arena window
under `arena --tui`) obeys this monitor too: space pauses it, + - set its pace, as in the
monitor that started it (the last key pressed in either wins; quitting this one lets the
run go on at full speed). Any other run is read-only (the status line says so).
Keys: space pause/resume, [ ] scrub, home/end, + - speed, t trader, k kind filter,
d/enter decision, ? help, q quit (docs/monitor.md).

examples:
  papertape monitor journals/demo-e227e9785cd0
  papertape monitor journals/demo-e227e9785cd0 --metrics-port 9108   # and serve /metrics
  papertape run configs/demo.toml --tui            # the engine in a child process, watched
  papertape arena configs/arena.toml --tui         # an arena, window by window
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
    p.add_argument(
        "--metrics-port",
        type=int,
        metavar="P",
        help="serve Prometheus metrics of the followed run on 127.0.0.1:P while the monitor "
        "is open (the same names as `papertape run --metrics-port`)",
    )
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
    metrics = _exporter(getattr(args, "metrics_port", None))
    source = RunFolder(folder)
    try:
        MonitorApp(source, metrics=metrics).run()
    finally:
        source.close()
    return 0


def _exporter(port: int | None) -> MetricsExporter | None:
    """A Prometheus exporter serving on 127.0.0.1:``port``, fed by the monitor (or None).

    Raises:
        ConfigError: The port cannot be bound.
    """
    if port is None:
        return None
    from papertape.monitor.metrics import MetricsExporter

    exporter = MetricsExporter()
    exporter.serve(port)
    return exporter


def _watch(
    monitor: type[MonitorApp], session: Any, metrics: MetricsExporter | None, err: Console
) -> None:
    """Start the child, show the monitor until it is quit, stop the child, print its log."""
    session.launch()  # the monitor starts while the child loads; it attaches after
    # The monitor yields to the engine on a busy machine: above 10 % of a core while the
    # run goes on, it drops frames (it still reads everything).
    app = monitor(session, max_duty=0.1, metrics=metrics)
    try:
        app.run()
    finally:
        session.close()
        session.stop()  # quit before the end: stop the run cleanly (no-op once done)
    log = session.output()[1]
    if log.strip():
        err.print(log.rstrip(), highlight=False, markup=False)


def run_with_monitor(config: RunConfig, metrics_port: int | None = None) -> SessionResult | None:
    """Run a session in a child process and watch it; its result once it finished.

    With ``metrics_port``, this process also serves the run's Prometheus metrics on
    127.0.0.1 from what the monitor follows (journal and telemetry; the engine's process
    serves nothing).

    The engine gets a process of its own (the monitor never takes its interpreter), writes
    its journal and a lossy ``telemetry.jsonl`` as usual, and the monitor follows that run
    folder. Pause and the pace keys reach a replay through ``control.json``; quitting stops
    the run with SIGINT at the end of a step (its journal stays resumable). Live sessions
    (``run.mode = "live"``) run the same way; their feed health comes from the telemetry.

    Returns:
        The session's result, or None when the monitor was quit before the run ended.

    Raises:
        ConfigError: The tui extra is missing, the config has no journal, or the metrics
            port cannot be bound.
        RunInterrupted: The monitor was quit while the run went on (resumable).
        PapertapeError: The run failed in its process.
    """
    try:
        from papertape.monitor.app import MonitorApp
        from papertape.monitor.child import ChildSession
    except ImportError as exc:
        raise ConfigError("--tui", str(exc), _MISSING) from None
    if not config.journal.enabled:
        raise ConfigError("journal.enabled", False, "--tui follows the run's journal: enable it")
    metrics = _exporter(metrics_port)  # before the child starts: a taken port fails first
    session = ChildSession(config)
    err = Console(stderr=True)
    err.print(f"starting {config.run.name} in its own process ...", highlight=False)
    try:
        _watch(MonitorApp, session, metrics, err)
        session.raise_failure()
        result = session.result()
        if result is not None and result.journal_path is not None:
            err.print(f"journal: {result.journal_path}", highlight=False)
        return result
    finally:
        session.cleanup()


def arena_with_monitor(
    config: ArenaConfig, windows: int | None, metrics_port: int | None = None
) -> tuple[Path, dict[str, Any], list[tuple[str, str]], int] | None:
    """Run an arena in a child process and watch it window by window.

    With ``metrics_port``, this process serves the arena's Prometheus metrics on 127.0.0.1
    from what the monitor follows (each window's journal and telemetry; steps add up over
    the windows).

    Returns:
        The arena folder, its summary (``--json``'s object), the traders skipped and the
        sessions run; None when the monitor was quit before the arena ended (it is stopped).

    Raises:
        ConfigError: The tui extra is missing, the config has no journal, or the metrics
            port cannot be bound.
        PapertapeError: The arena failed in its process.
    """
    from pathlib import Path

    try:
        from papertape.monitor.app import MonitorApp
        from papertape.monitor.arena_session import ArenaSession
    except ImportError as exc:
        raise ConfigError("--tui", str(exc), _MISSING) from None
    if not config.run.journal.enabled:
        raise ConfigError("journal.enabled", False, "--tui follows each window's journal")
    metrics = _exporter(metrics_port)  # before the child starts: a taken port fails first
    session = ArenaSession(config, windows)
    err = Console(stderr=True)
    err.print(f"starting the arena {config.run.run.name} in its own process ...", highlight=False)
    try:
        _watch(MonitorApp, session, metrics, err)
        try:
            session.raise_failure()
        except RunInterrupted:
            err.print("arena stopped before its end: no leaderboard written", highlight=False)
            return None
        outcome = session.outcome()
        if not isinstance(outcome, dict) or "arena" not in outcome:
            err.print("arena stopped before its end: no leaderboard written", highlight=False)
            return None
        skipped = [(str(a), str(b)) for a, b in outcome["skipped"]]
        return Path(outcome["arena"]), outcome["summary"], skipped, int(outcome["sessions"])
    finally:
        session.cleanup()
