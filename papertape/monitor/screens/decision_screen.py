"""A decision in full: what the trader saw, its reasoning, the decision, orders, fills, outcome."""

from __future__ import annotations

import json
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from papertape.monitor.format import event_summary, iso
from papertape.monitor.state import DecisionRecord

__all__ = ["DecisionScreen", "describe"]


def describe(rec: DecisionRecord) -> str:
    """The decision as console markup-free text, section by section."""
    out = [f"{rec.decision_id} · {rec.strategy} · {rec.symbol} · {iso(rec.time)}", ""]
    out += [f"action: {rec.action}", "", "reasoning:", f"  {rec.reasoning or '-'}", ""]
    if rec.llm is not None:
        llm = rec.llm
        out += [
            "context (LLM call):",
            f"  model {llm.get('provider', '')}/{llm.get('model', '')} params {llm.get('params')}",
            f"  prompt sha256 {llm.get('prompt_hash', '')}",
            f"  reason code {llm.get('reason_code', '')} {llm.get('detail', '')}".rstrip(),
            f"  latency {llm.get('latency_ms', 0):,.0f} ms · tokens "
            f"{llm.get('tokens_in', 0)} in / {llm.get('tokens_out', 0)} out",
            "",
            "decision:",
            "  " + json.dumps(llm.get("decision"), sort_keys=True),
            "",
            "raw output:",
            "  " + str(llm.get("raw", "")),
            "",
        ]
    sections: list[tuple[str, list[dict[str, Any]]]] = [
        ("signal", [rec.signal] if rec.signal else []),
        ("orders", rec.orders),
        ("vetoes", rec.vetoes),
        ("fills", rec.fills),
    ]
    for title, events in sections:
        out.append(f"{title}:")
        out += [f"  #{ev.get('seq')} {event_summary(ev)}" for ev in events] or ["  -"]
        out.append("")
    if rec.outcome is not None:
        o = rec.outcome
        out += [
            "outcome:",
            f"  {o.get('side', '')} pnl {o.get('pnl', 0.0):,.2f} ({o.get('return_pct', 0.0):+.2%})"
            f", closed by {o.get('closed_by', '')} after {o.get('bars_held', 0)} steps",
        ]
    else:
        out += ["outcome:", "  not known yet (no trade it opened has closed)"]
    return "\n".join(out)


class DecisionScreen(ModalScreen[None]):
    """One decision's detail; escape closes it."""

    BINDINGS = [Binding("escape,q,enter", "dismiss", "close")]

    def __init__(self, record: DecisionRecord) -> None:
        super().__init__()
        self.record = record

    def compose(self) -> ComposeResult:
        """The description, scrollable."""
        with VerticalScroll(id="decision-body"):
            yield Static(describe(self.record), id="decision-text", markup=False)
