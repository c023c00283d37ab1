"""A drop-in strategy file: the README's example.

Every ``*.py`` file in this folder (or in a folder passed with ``--strategy-dir``) is loaded
at start-up; each ``Strategy`` subclass with a ``name`` becomes available to configs and
``--strategy``. This folder is not a package: nothing here is installed.
"""

from __future__ import annotations

from papertape import Signal, Strategy


class Breakout(Strategy):
    name = "breakout"  # what --strategy and configs call it
    defaults = {"lookback": 20}  # parameters, typed by their defaults

    def on_bar(self, snap, portfolio):  # type: ignore[no-untyped-def]  # snap: immutable Snapshot
        highs = snap.window("high", self.p.lookback + 1)  # read-only numpy view, no copy
        if len(highs) > self.p.lookback and snap.price > highs[:-1].max():
            return Signal.long("new high")  # the sizer decides how much
        if portfolio.qty(snap.symbol) and snap.price < highs[:-1].min():
            return Signal.flat("new low")
        return None
