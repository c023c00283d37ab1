"""Does an edge survive blinding? Compare each contestant's edge on the real and the blind tape.

The edge is the pooled Sharpe ratio of a contestant minus that of the best baseline on the same
variant. On the blind tape, prices, dates and the ticker are hidden, so an edge that exists
only on the real tape is the signature of a model recalling the market from its training data
(contamination) rather than reading it.

Verdicts: ``survives`` (an edge on both tapes; when significance is available, the blind row
must also *beat* its baseline after correction), ``vanishes when blind`` (an edge on the real
tape only: suspect contamination), ``appears only when blind`` and ``no edge`` (neither tape).
"""

from __future__ import annotations

from typing import Any

__all__ = ["edge_after_blinding"]


def _edges(board: dict[str, Any]) -> dict[str, float | None]:
    rows = {r["trader"]: r for r in board["rows"]}
    sig = board.get("significance")
    if sig is not None:
        best = sig["best_baseline"]
    else:
        bases = [r for r in board["rows"] if r["kind"] == "baseline"]
        if not bases:
            return {}
        best = max(bases, key=lambda r: r["sharpe"] if r["sharpe"] is not None else 0.0)["trader"]
    base = rows[best]["sharpe"] or 0.0
    return {t: (r["sharpe"] or 0.0) - base for t, r in rows.items() if r["kind"] != "baseline"}


def _beats(board: dict[str, Any], trader: str) -> bool | None:
    sig = board.get("significance")
    if sig is None or trader not in sig["comparisons"]:
        return None
    return str(sig["comparisons"][trader]["verdict"]).startswith("beats")


def edge_after_blinding(real: dict[str, Any], blind: dict[str, Any]) -> dict[str, Any]:
    """Per contestant: the edge on each tape and a verdict (see the module docstring)."""
    a, b = _edges(real), _edges(blind)
    out: dict[str, Any] = {}
    for trader, edge in a.items():
        eb = b.get(trader)
        if edge is None or eb is None:
            continue
        real_edge, blind_edge = edge > 0, eb > 0
        beats_real, beats_blind = _beats(real, trader), _beats(blind, trader)
        if beats_real is not None and beats_blind is not None:
            real_edge, blind_edge = beats_real, beats_blind
        if real_edge and blind_edge:
            verdict = "survives"
        elif real_edge:
            verdict = "vanishes when blind"
        elif blind_edge:
            verdict = "appears only when blind"
        else:
            verdict = "no edge"
        out[trader] = {
            "edge_real": round(edge, 10),
            "edge_blind": round(eb, 10),
            "significance_used": beats_real is not None and beats_blind is not None,
            "verdict": verdict,
        }
    return out
