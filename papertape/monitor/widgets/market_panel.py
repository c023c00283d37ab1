"""Latest prices, regime (with probabilities when annotated) and feed health."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from papertape.monitor.state import MonitorState

__all__ = ["MarketPanel"]


class MarketPanel(Static):
    """Prices, regimes and the live feed's state."""

    def show(self, state: MonitorState) -> None:
        """Redraw from a state."""
        text = Text()
        symbols = sorted(set(state.prices) | set(state.regimes))
        for sym in symbols:
            price = state.prices.get(sym)
            text.append(f"{sym:<8}", style="bold")
            text.append("-" if price is None else f"{price:>12,.2f}")
            regime = state.regimes.get(sym)
            if regime is not None:
                text.append(f"  {regime}", style="cyan")
                probs = state.regime_probabilities.get(sym)
                if probs:
                    text.append(" (" + ", ".join(f"{k} {v:.0%}" for k, v in probs.items()) + ")")
            text.append("\n")
        feed = state.feed
        if feed.connected is None:
            text.append(f"feed: {state.mode or 'replay'} (no live feed)", style="dim")
        else:
            status = ("connected", "green") if feed.connected else ("disconnected", "red")
            text.append("feed: ")
            text.append(status[0], style=status[1])
            text.append(f" · reconnects {max(0, feed.connections - 1)} · gaps {feed.gaps}")
            if feed.lag_ns is not None:
                text.append(f" · lag {feed.lag_ns / 1e6:,.0f} ms")
            for sym, why in feed.stale.items():
                text.append(f"\nstale {sym}: {why}", style="yellow")
        self.update(text)
