"""Equity curves of every trader (or the focused one), braille plot by textual-plotext."""

from __future__ import annotations

from textual_plotext import PlotextPlot

from papertape.monitor.state import MonitorState

__all__ = ["EquityPlot"]

_NS_PER_DAY = 86_400 * 10**9
_MAX_POINTS = 2000  # plotext draws every point: thin long curves, the panel is a few 100 cells


class EquityPlot(PlotextPlot):
    """Equity per trader against days since the run's start."""

    def show(self, state: MonitorState, focus: str | None, start: int) -> None:
        """Redraw from a state (only ``focus`` when set)."""
        plt = self.plt
        plt.clear_data()
        plt.title("equity")
        plt.xlabel("days")
        for tr in state.traders.values():
            if focus is not None and tr.strategy != focus:
                continue
            curve = tr.curve
            if len(curve) > _MAX_POINTS:
                step = len(curve) // _MAX_POINTS + 1
                curve = [*curve[::step], curve[-1]]
            if not curve:
                continue
            xs = [(t - start) / _NS_PER_DAY for t, _ in curve]
            plt.plot(xs, [e for _, e in curve], label=tr.strategy, marker="braille")
        self.refresh()
