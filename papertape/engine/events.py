"""The event stream: every decision and consequence of a run, in order.

Events are frozen, slotted values. The engine hands each tick's events to the
``papertape_events`` hook in one call, where the journal writer, metrics consumers and
monitors read the same stream.
Events never carry wall-clock time, so a replay journal is byte-identical across runs.
Live feeds add their health to the same stream (connections, staleness, gaps, refused
messages, book resyncs), so a monitor reads one vocabulary whatever the source.
Per-bar equity is not an event (it would dominate the stream); it lives in each portfolio's
curve and is summarised in :class:`RunFinished`. Consumers that want periodic marks can ask the
engine for :class:`EquityMarked` every N steps (``journal.mark_every``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from papertape.engine.values import fast_frozen_init

# The version of the event vocabulary (docs/events.md), journaled in ``run_started``. Bump it
# when an event kind or field is removed, renamed or changes meaning; readers check it.
SCHEMA_VERSION = 2

_FIELD_NAMES: dict[type, tuple[str, ...]] = {}

__all__ = [
    "EVENT_KINDS",
    "SCHEMA_VERSION",
    "BookResynced",
    "BracketPlaced",
    "DataRejected",
    "EquityMarked",
    "Event",
    "FeedConnected",
    "FeedDisconnected",
    "FeedFresh",
    "FeedGap",
    "FeedStale",
    "FeedSummary",
    "LlmDecision",
    "LlmOutcome",
    "MemberDropped",
    "MessageRejected",
    "OcoCancelled",
    "OrderCancelled",
    "OrderFilled",
    "OrderSubmitted",
    "OrderVetoed",
    "RegimeChanged",
    "RunFinished",
    "RunStarted",
    "ShieldReleased",
    "ShieldTripped",
    "SignalEmitted",
    "StrategyDisabled",
    "StrategyFailed",
    "TradeClosed",
]


@dataclass(frozen=True, slots=True)
class Event:
    """Base of all events: ``time`` in ns since the epoch (the market time, not wall time)."""

    kind: ClassVar[str] = "event"
    time: int

    def record(self) -> dict[str, Any]:
        """A JSON-ready dict: ``{"kind": ..., <fields>}`` with keys in sorted order."""
        cls = type(self)
        names = _FIELD_NAMES.get(cls)
        if names is None:
            names = _FIELD_NAMES[cls] = tuple(sorted({"kind", *(f.name for f in fields(cls))}))
        return {n: getattr(self, n) for n in names}


@dataclass(frozen=True, slots=True)
class RunStarted(Event):
    """A run began: identity and reproducibility facts."""

    kind: ClassVar[str] = "run_started"
    run_id: str
    config_hash: str
    data_hash: str
    seed: int
    mode: str
    symbols: tuple[str, ...]
    strategies: tuple[str, ...]
    version: str
    initial_cash: dict[str, float] = field(default_factory=dict)  # per strategy id
    schema_version: int = SCHEMA_VERSION


@dataclass(frozen=True, slots=True)
class DataRejected(Event):
    """Rows of a data file were refused by validation (one event per file with rejections)."""

    kind: ClassVar[str] = "data_rejected"
    symbol: str
    source: str
    counts: dict[str, int]


@dataclass(frozen=True, slots=True)
class SignalEmitted(Event):
    """A strategy asked for a target position."""

    kind: ClassVar[str] = "signal"
    strategy: str
    symbol: str
    target: str
    order_type: str
    price: float | None
    stop_loss: float | None
    take_profit: float | None
    size: float | None
    reason: str
    bar_symbol: str = ""  # the symbol whose bar (at ``time``) the decision was taken on


@dataclass(frozen=True, slots=True)
class OrderSubmitted(Event):
    """An order entered the simulator."""

    kind: ClassVar[str] = "order"
    strategy: str
    order_id: int
    symbol: str
    side: int
    qty: float
    order_type: str
    role: str
    price: float | None
    stop_loss: float | None
    take_profit: float | None


@dataclass(frozen=True, slots=True)
class OrderVetoed(Event):
    """A shield refused or shrank an order."""

    kind: ClassVar[str] = "veto"
    strategy: str
    symbol: str
    side: int
    requested_qty: float
    allowed_qty: float
    shield: str
    reason: str


@dataclass(frozen=True, slots=True)
class OrderCancelled(Event):
    """A working order was cancelled (replaced by a new signal, OCO sibling, shutdown)."""

    kind: ClassVar[str] = "cancel"
    strategy: str
    order_id: int
    symbol: str
    reason: str


@dataclass(frozen=True, slots=True)
class BracketPlaced(Event):
    """An entry carrying a stop-loss and/or take-profit filled; its exit legs are now working.

    ``stop_order_id``/``target_order_id`` are None when the entry had no such leg. With both
    legs they form an OCO pair: the first to fill cancels the other (``oco_cancelled``).
    """

    kind: ClassVar[str] = "bracket_placed"
    strategy: str
    symbol: str
    entry_order_id: int
    stop_order_id: int | None
    stop_price: float | None
    target_order_id: int | None
    target_price: float | None


@dataclass(frozen=True, slots=True)
class OcoCancelled(Event):
    """One leg of an OCO bracket filled, so its sibling leg was cancelled."""

    kind: ClassVar[str] = "oco_cancelled"
    strategy: str
    symbol: str
    order_id: int  # the cancelled leg
    filled_order_id: int  # the sibling whose fill cancelled it


@dataclass(frozen=True, slots=True)
class OrderFilled(Event):
    """An order (or part of it) was executed."""

    kind: ClassVar[str] = "fill"
    strategy: str
    order_id: int
    symbol: str
    side: int
    qty: float
    price: float
    fee: float
    slippage: float
    liquidity: str
    role: str
    cash_after: float
    position_after: float


@dataclass(frozen=True, slots=True)
class TradeClosed(Event):
    """A round trip (or part of one) was closed; ``pnl`` is net of fees."""

    kind: ClassVar[str] = "trade"
    strategy: str
    symbol: str
    side: int
    qty: float
    entry_time: int
    entry_price: float
    exit_price: float
    pnl: float
    fees: float
    bars_held: int


@dataclass(frozen=True, slots=True)
class ShieldTripped(Event):
    """A shield restricted a strategy (or, with strategy "*", every strategy)."""

    kind: ClassVar[str] = "shield_tripped"
    strategy: str
    shield: str
    state: str
    reason: str


@dataclass(frozen=True, slots=True)
class ShieldReleased(Event):
    """A risk shield returned to normal."""

    kind: ClassVar[str] = "shield_released"
    strategy: str
    shield: str
    reason: str


@dataclass(frozen=True, slots=True)
class StrategyFailed(Event):
    """User strategy code raised; the run continues."""

    kind: ClassVar[str] = "strategy_failed"
    strategy: str
    error: str
    errors_so_far: int


@dataclass(frozen=True, slots=True)
class StrategyDisabled(Event):
    """A strategy was switched off (too many errors); its positions were closed."""

    kind: ClassVar[str] = "strategy_disabled"
    strategy: str
    reason: str


@dataclass(frozen=True, slots=True)
class EquityMarked(Event):
    """Periodic equity mark of one strategy (only when ``mark_every`` is set)."""

    kind: ClassVar[str] = "equity"
    strategy: str
    equity: float
    cash: float


@dataclass(frozen=True, slots=True)
class RunFinished(Event):
    """The run ended; ``summary`` holds per-strategy final figures."""

    kind: ClassVar[str] = "run_finished"
    bars: int
    summary: dict[str, dict[str, Any]]


@dataclass(frozen=True, slots=True)
class LlmDecision(Event):
    """One decision of an LLM trader with everything needed to audit and replay it.

    ``raw`` is the model's output as received, capped at the trader's ``journal_raw_chars``
    (``raw_truncated`` says whether it was cut, ``raw_length`` is the whole answer's length in
    characters; the whole answer is what was validated), ``decision`` the validated fields
    (None when rejected) and ``reason_code`` why the action is what it is (``ok``, or why it
    is a HOLD).
    ``latency_ms``, tokens and cost are those of the model call, as recorded in the replay
    cache (so a replayed run journals the same values). The decision id appears in the reason
    of the signal it caused and in the :class:`LlmOutcome` of the trade it opened. ``memory``
    lists the past situations the prompt recalled (``memory = k``; docs/journal.md).
    """

    kind: ClassVar[str] = "llm_decision"
    strategy: str
    decision_id: str
    symbol: str
    provider: str
    model: str
    params: dict[str, Any]
    prompt_hash: str
    cache_key: str
    raw: str
    decision: dict[str, Any] | None
    action: str
    reason_code: str
    detail: str
    latency_ms: float
    tokens_in: int
    tokens_out: int
    cost: float
    raw_length: int = 0
    raw_truncated: bool = False
    memory: tuple[str, ...] = ()  # ids (``<run>#<seq>``) of the past situations in the prompt


@dataclass(frozen=True, slots=True)
class LlmOutcome(Event):
    """The realised result of a trade an LLM decision opened (emitted when it closes)."""

    kind: ClassVar[str] = "llm_outcome"
    strategy: str
    decision_id: str
    symbol: str
    side: str
    qty: float
    entry_time: int
    entry_price: float
    exit_price: float
    pnl: float
    return_pct: float
    bars_held: int
    closed_by: str
    order_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class MemberDropped(Event):
    """A member of an ensemble voter left one vote: it failed, timed out or abstained.

    ``reason`` is ``failed`` (its code raised or returned something that is not a signal),
    ``timeout`` (its awaitable decision took longer than the ensemble's ``member_timeout_s``)
    or ``abstained`` (it was asked and answered nothing: an LLM trader's HOLD). Failures and
    timeouts count towards the ensemble's ``max_member_errors``. ``awaited`` says whether the
    member's decision was an awaitable; journal replay uses it to re-emit the record where the
    ensemble did (at once, or in the moment's round of slow decisions).
    """

    kind: ClassVar[str] = "member_dropped"
    strategy: str
    member: str
    symbol: str
    reason: str
    detail: str
    errors_so_far: int
    awaited: bool  # the member's decision was an awaitable (a slow vote): journal replay


@dataclass(frozen=True, slots=True)
class RegimeChanged(Event):
    """The ``regime`` annotation of a symbol changed (``previous`` is None for the first one)."""

    kind: ClassVar[str] = "regime_changed"
    symbol: str
    regime: str
    previous: str | None
    confidence: float | None


# ------------------------------------------------------------------ live feed health


@dataclass(frozen=True, slots=True)
class FeedConnected(Event):
    """Every subscription of a (re)connection delivered its snapshot; data flows again."""

    kind: ClassVar[str] = "feed_connected"
    url: str
    connection: int  # 1 for the first connection, 2 after the first reconnect, ...
    backfilled_bars: int  # closed candles recovered from the snapshots of this connection


@dataclass(frozen=True, slots=True)
class FeedDisconnected(Event):
    """The connection was lost (or could not be opened); the feed reconnects after ``delay_s``.

    ``attempt`` numbers the retries in a row: 1 after a working connection was lost, 2 after
    that retry failed too, and so on (the backoff doubles with it).
    """

    kind: ClassVar[str] = "feed_disconnected"
    url: str
    reason: str
    attempt: int
    delay_s: float


@dataclass(frozen=True, slots=True)
class FeedStale(Event):
    """A symbol's data can no longer be trusted as current; orders are vetoed until fresh."""

    kind: ClassVar[str] = "feed_stale"
    symbol: str
    reason: str


@dataclass(frozen=True, slots=True)
class FeedFresh(Event):
    """A symbol's data is current again."""

    kind: ClassVar[str] = "feed_fresh"
    symbol: str


@dataclass(frozen=True, slots=True)
class FeedGap(Event):
    """Data is missing: candle intervals (``ohlc``) or trade ids (``trade``) never arrived.

    ``first``/``last`` are interval start times (ns) for ``ohlc`` and trade ids for ``trade``.
    """

    kind: ClassVar[str] = "feed_gap"
    symbol: str
    channel: str
    first: int
    last: int
    count: int
    reason: str


@dataclass(frozen=True, slots=True)
class MessageRejected(Event):
    """A message (or part of one) was refused and never reached a strategy."""

    kind: ClassVar[str] = "message_rejected"
    channel: str
    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class BookResynced(Event):
    """A symbol's order book was dropped and resubscribed (e.g. after a checksum mismatch)."""

    kind: ClassVar[str] = "book_resync"
    symbol: str
    reason: str


@dataclass(frozen=True, slots=True)
class FeedSummary(Event):
    """Counters of the whole session's feed (messages, rejections by reason, gaps, reconnects)."""

    kind: ClassVar[str] = "feed_summary"
    counts: dict[str, Any]


def _kinds() -> dict[str, type[Event]]:
    out: dict[str, type[Event]] = {}
    stack = list(Event.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__ == __name__ and globals().get(cls.__name__) is not cls:
            continue  # the class object ``slots=True`` replaced: not the one in use
        out[cls.kind] = cls
    return dict(sorted(out.items()))


EVENT_KINDS: dict[str, type[Event]] = _kinds()  # every kind of this module, by its name
for _name in __all__:  # the classes bound here (slots=True replaced the first class objects)
    _cls = globals()[_name]
    if isinstance(_cls, type) and issubclass(_cls, Event):
        fast_frozen_init(_cls)
