"""The terminal monitor (Textual) and the Prometheus exporter; needs ``papertape[tui]``.

:mod:`papertape.monitor.state` is pure (no textual) and folds a run's events at any time;
:mod:`papertape.monitor.source` reads a run folder or runs a session in a thread;
:mod:`papertape.monitor.app` is the Textual app. The engine never imports this package.
"""

from papertape.monitor.state import MonitorState
from papertape.monitor.timeline import Timeline

__all__ = ["MonitorState", "Timeline"]
