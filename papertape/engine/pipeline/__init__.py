"""The per-bar pipeline's stages, one module each, put together by ``engine.loop.Engine``.

``state`` (what the stages share), ``replay`` (the fast path and stepping), ``marking``
(equity and shields per moment), ``orders`` (decisions to orders), ``booking`` (fills into
portfolios), ``guard`` (containment of failing strategies). The live engine reuses them
through :class:`~papertape.engine.loop.Engine`.
"""

from __future__ import annotations

from papertape.engine.pipeline.state import (
    EngineSettings,
    EngineState,
    RunInfo,
    Slot,
    SlotSpec,
    TelemetryOutlet,
)

__all__ = ["EngineSettings", "EngineState", "RunInfo", "Slot", "SlotSpec", "TelemetryOutlet"]
