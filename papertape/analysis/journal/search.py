"""``papertape journal search``: full-text search over reasoning and reasons (SQLite FTS5).

The searchable text of a run is, per event: a ``signal``'s reason, an ``llm_decision``'s
reasoning and detail, a ``veto``'s and a ``shield_tripped``'s reason. It goes into an FTS5 table
(``reasoning``, porter stemming, unicode) inside the run's ``index.sqlite``, built on the first
search and brought up to date with the log on each later one (a table ``reasoning_state`` keeps
the next ``seq`` to index); ``journal index --rebuild`` drops it with the rest of the index.
A run folder that cannot be written is searched from an in-memory table instead.

Each hit comes with its decision (the ``signal`` of the same slot and bar; for an LLM decision,
the signal carrying its ``[decision id]``), the fills of the orders that decision sent, and the
outcome: the round trips (``trade``) those fills opened or closed and, for an LLM decision, its
``llm_outcome`` P&L. The query is FTS5 syntax (``stop AND loss``, ``"trend reversal"``,
``volat*``); a bare string of words matches events holding all of them.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from papertape.engine.errors import ConfigError, JournalError
from papertape.engine.journal.jsonl import read_journal
from papertape.engine.journal.sqlite import INDEX_NAME

__all__ = ["SearchHit", "search_journal", "searchable_text"]

_SCHEMA = """
CREATE VIRTUAL TABLE IF NOT EXISTS reasoning USING fts5(
    text, kind UNINDEXED, strategy UNINDEXED, seq UNINDEXED, tokenize = 'porter unicode61'
);
CREATE TABLE IF NOT EXISTS reasoning_state (next_seq INTEGER NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One matching event with what followed from it.

    Attributes:
        event: The matching event (``signal``, ``llm_decision``, ``veto``, ``shield_tripped``).
        snippet: The matching text with the hit marked ``[...]``.
        decision: The decision (``signal`` event) it belongs to, or None (a HOLD, a trip).
        fills: Fills of the orders that decision sent.
        trades: Round trips those fills opened or closed.
        outcome_pnl: Summed ``llm_outcome`` P&L of an LLM decision's trade, or None.
    """

    event: dict[str, Any]
    snippet: str
    decision: dict[str, Any] | None
    fills: list[dict[str, Any]] = field(default_factory=list)
    trades: list[dict[str, Any]] = field(default_factory=list)
    outcome_pnl: float | None = None


def searchable_text(rec: Mapping[str, Any]) -> str | None:
    """The text of an event that search looks at (None for kinds without any)."""
    kind = rec.get("kind")
    if kind == "signal" or kind in ("veto", "shield_tripped"):
        return str(rec.get("reason") or "") or None
    if kind == "llm_decision":
        reasoning = (rec.get("decision") or {}).get("reasoning") or ""
        text = f"{reasoning}\n{rec.get('detail') or ''}".strip()
        return text or None
    return None


def _open(folder: Path) -> sqlite3.Connection:
    try:
        db = sqlite3.connect(folder / INDEX_NAME, timeout=10.0)
        db.executescript(_SCHEMA)
    except sqlite3.OperationalError:
        db = sqlite3.connect(":memory:")
        db.executescript(_SCHEMA)
    return db


def _catch_up(db: sqlite3.Connection, records: Sequence[Mapping[str, Any]]) -> None:
    row = db.execute("SELECT next_seq FROM reasoning_state").fetchone()
    start = 0 if row is None else int(row[0])
    if start > len(records):  # the log was replaced by a new run: start again
        db.execute("DELETE FROM reasoning")
        start = 0
    rows = []
    for rec in records[start:]:
        text = searchable_text(rec)
        if text is not None:
            rows.append((text, rec["kind"], rec.get("strategy"), int(rec["seq"])))
    with db:
        db.executemany("INSERT INTO reasoning VALUES (?, ?, ?, ?)", rows)
        db.execute("DELETE FROM reasoning_state")
        db.execute("INSERT INTO reasoning_state VALUES (?)", (len(records),))


class _Links:
    """Decisions, their orders, fills and trades, keyed for the hit lookups."""

    def __init__(self, records: Sequence[dict[str, Any]]) -> None:
        self.signals: dict[tuple[str, int, str], dict[str, Any]] = {}
        self.by_decision_id: dict[str, dict[str, Any]] = {}
        self.orders: dict[int, list[int]] = defaultdict(list)  # signal seq -> order ids
        self.fills: dict[int, list[dict[str, Any]]] = defaultdict(list)
        self.trades: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        self.outcomes: dict[str, float] = defaultdict(float)
        last_signal: dict[str, dict[str, Any]] = {}
        for rec in records:
            kind = rec["kind"]
            if kind == "signal":
                bar = rec.get("bar_symbol") or rec["symbol"]
                self.signals[(rec["strategy"], int(rec["time"]), bar)] = rec
                last_signal[rec["strategy"]] = rec
                reason = str(rec.get("reason", ""))
                if reason.startswith("[") and "]" in reason:
                    self.by_decision_id[reason[1 : reason.index("]")]] = rec
            elif kind == "order" and rec.get("role") == "entry":
                sig = last_signal.get(rec["strategy"])
                if sig is not None and int(sig["time"]) == int(rec["time"]):
                    self.orders[int(sig["seq"])].append(int(rec["order_id"]))
            elif kind == "fill":
                self.fills[int(rec["order_id"])].append(rec)
            elif kind == "trade":
                self.trades[(rec["strategy"], rec["symbol"])].append(rec)
            elif kind == "llm_outcome":
                self.outcomes[rec["decision_id"]] += float(rec["pnl"])

    def hit(self, event: dict[str, Any], snippet: str) -> SearchHit:
        decision: dict[str, Any] | None = None
        outcome = None
        if event["kind"] == "signal":
            decision = event
        elif event["kind"] == "llm_decision":
            decision = self.by_decision_id.get(event["decision_id"])
            if event["decision_id"] in self.outcomes:
                outcome = self.outcomes[event["decision_id"]]
        if decision is None:
            return SearchHit(event, snippet, None, outcome_pnl=outcome)
        fills = [f for oid in self.orders.get(int(decision["seq"]), ()) for f in self.fills[oid]]
        times = {int(f["time"]) for f in fills}
        trades = [
            t
            for t in self.trades[(decision["strategy"], decision["symbol"])]
            if int(t["time"]) in times or int(t["entry_time"]) in times
        ]
        return SearchHit(event, snippet, decision, fills, trades, outcome)


def search_journal(
    run_dir: str | Path, query: str, *, trader: str | None = None, limit: int = 50
) -> list[SearchHit]:
    """Full-text search over a run's reasoning and reasons, hits in journal order.

    Args:
        run_dir: The run folder.
        query: FTS5 query (words, ``"a phrase"``, ``AND``/``OR``/``NOT``, ``prefix*``).
        trader: Only events of this slot.
        limit: At most this many hits (the earliest).

    Raises:
        JournalError: Not a run folder.
        ConfigError: The query is not valid FTS5 syntax.
    """
    folder = Path(run_dir)
    if not (folder / "events.jsonl").is_file():
        raise JournalError(f"{folder} is not a run folder (no events.jsonl)")
    records = list(read_journal(folder))
    db = _open(folder)
    try:
        _catch_up(db, records)
        sql = (
            "SELECT seq, snippet(reasoning, 0, '[', ']', '...', 12) FROM reasoning "
            "WHERE reasoning MATCH ?"
        )
        args: list[Any] = [query]
        if trader is not None:
            sql += " AND strategy = ?"
            args.append(trader)
        sql += " ORDER BY CAST(seq AS INTEGER) LIMIT ?"
        args.append(limit)
        try:
            rows = db.execute(sql, args).fetchall()
        except sqlite3.OperationalError as exc:
            raise ConfigError("query", query, f"not a valid search ({exc})") from None
    finally:
        db.close()
    links = _Links(records)
    return [links.hit(records[int(seq)], str(snip)) for seq, snip in rows]
