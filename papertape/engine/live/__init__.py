"""Live paper trading: a live feed driving the engine's pipeline, fills against the book.

See docs/live.md. :class:`LiveSession` runs a session from a config (``run.mode = "live"``);
:class:`LiveEngine` is the engine it drives.
"""

from papertape.engine.live.engine import LiveEngine
from papertape.engine.live.session import LiveSession, run_live, session_config

__all__ = ["LiveEngine", "LiveSession", "run_live", "session_config"]
