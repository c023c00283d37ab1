"""A drop-in strategy that takes a few milliseconds per bar, so a test can attach mid-run."""

from __future__ import annotations

import time

from papertape import Signal, Strategy


class SlowHold(Strategy):
    name = "slow_hold"
    defaults = {"sleep_ms": 3.0}

    def on_bar(self, snap, portfolio):  # type: ignore[no-untyped-def]
        time.sleep(self.p.sleep_ms / 1000)
        if not portfolio.qty(snap.symbol):
            return Signal.long("hold")
        return None
