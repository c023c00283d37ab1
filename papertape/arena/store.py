"""The arena's run folder: ``<journal.dir>/<arena id>/arena.json``, what ``papertape report`` reads.

The document holds the leaderboards, the blinding verdicts and, per variant and window, the
equity and position of every trader, its trades, every LLM decision with its reasoning, the
closes of the traded symbols and the regime changes. Each window's own journal (every event of
that session) is named in it. Nothing in it depends on wall-clock time.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from papertape.arena.contamination import edge_after_blinding
from papertape.arena.leaderboard import build_leaderboard
from papertape.engine.errors import ConfigError

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from papertape.arena.runner import ArenaRun, WindowRun
    from papertape.engine.feeds.base import BarSeries

__all__ = ["ARENA_FILE", "SCHEMA_VERSION", "arena_document", "read_arena", "summary", "write_arena"]

ARENA_FILE = "arena.json"
SCHEMA_VERSION = 1


def summary(run: ArenaRun) -> dict[str, Any]:
    """What ``papertape arena --json`` prints: leaderboards and blinding verdicts."""
    boards = {
        ("blind" if blind else "real"): build_leaderboard(run, blind)
        for blind in run.config.arena.blind_modes
    }
    out: dict[str, Any] = {
        "arena_id": run.arena_id,
        "contestants": list(run.contestants),
        "baselines": list(run.baselines),
        "skipped": {sid: why for sid, why in run.skipped},
        "windows": [w.window.label for w in run.variant(run.windows[0].blind)],
        "journals": [w.journal for w in run.windows],
        "leaderboards": boards,
        "blinding": None,
    }
    if "real" in boards and "blind" in boards:
        out["blinding"] = edge_after_blinding(boards["real"], boards["blind"])
    return out


def _round(a: Any, digits: int = 6) -> list[float]:
    return [round(float(x), digits) for x in a]


def _window(w: WindowRun) -> dict[str, Any]:

    def k(s: BarSeries) -> NDArray[np.bool_]:  # the window's own bars
        return np.asarray(s.time >= w.window.start)

    return {
        "label": w.window.label,
        "blind": w.blind,
        "run_id": w.run_id,
        "journal": w.journal,
        "times": [int(t) for t in w.times],
        "prices": {
            sym: {
                "times": [int(t) for t in s.time[k(s)]],
                "close": _round(s.close[k(s)]),
            }
            for sym, s in w.series.items()
        },
        "regimes": list(w.regimes),
        "traders": {
            tid: {
                "strategy": r.strategy,
                "equity": _round(r.equity, 4),
                "side": [int(x) for x in np.asarray(r.side)],
                "trades": [
                    {
                        "symbol": t.symbol,
                        "side": int(t.side),
                        "qty": float(t.qty),
                        "entry_time": int(t.entry_time),
                        "entry_price": float(t.entry_price),
                        "exit_time": int(t.exit_time),
                        "exit_price": float(t.exit_price),
                        "pnl": float(t.pnl),
                    }
                    for t in r.trades
                ],
                "fills": [
                    {"time": f.time, "symbol": f.symbol, "qty": f.qty, "price": f.price}
                    for f in r.fills
                ],
                "decisions": [
                    {
                        "time": int(d["time"]),
                        "decision_id": d["decision_id"],
                        "symbol": d["symbol"],
                        "model": d["model"],
                        "action": d["action"],
                        "reason_code": d["reason_code"],
                        "detail": d["detail"],
                        "decision": d["decision"],
                    }
                    for d in r.decisions
                ],
            }
            for tid, r in w.traders.items()
        },
    }


def arena_document(run: ArenaRun) -> dict[str, Any]:
    """The full run-folder document."""
    return {
        "schema": SCHEMA_VERSION,
        "arena_id": run.arena_id,
        "config": run.config.run.canonical(),
        "arena": run.config.arena.model_dump(mode="json"),
        "summary": summary(run),
        "windows": [_window(w) for w in run.windows],
    }


def write_arena(doc: dict[str, Any], journal_dir: str | Path) -> Path:
    """Write ``arena.json`` atomically; return the run folder."""
    folder = Path(journal_dir) / str(doc["arena_id"])
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (ARENA_FILE + ".tmp")
    tmp.write_text(json.dumps(doc, allow_nan=False, separators=(",", ":")), encoding="utf-8")
    os.replace(tmp, folder / ARENA_FILE)
    return folder


def read_arena(run_dir: str | Path) -> dict[str, Any]:
    """Load an arena run folder (or its ``arena.json``).

    Raises:
        ConfigError: Not an arena run folder, or a document of another schema version.
    """
    p = Path(run_dir)
    path = p if p.is_file() else p / ARENA_FILE
    if not path.is_file():
        raise ConfigError("run_dir", str(run_dir), f"no {ARENA_FILE} here (run `papertape arena`)")
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if doc.get("schema") != SCHEMA_VERSION:
        raise ConfigError(
            "run_dir", str(run_dir), f"schema {doc.get('schema')} is not {SCHEMA_VERSION}"
        )
    return doc
