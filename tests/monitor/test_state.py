"""MonitorState / Timeline: folding hand-made event lists, and the scrubber's ``at(t)``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from papertape.engine.journal import read_journal
from papertape.engine.telemetry import TelemetrySample
from papertape.monitor.timeline import Timeline

DEMO = Path(__file__).parent / "data" / "demo"


class Journal:
    """A small factory of journal events with consecutive ``seq`` numbers."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def add(self, kind: str, time: int, **fields: Any) -> dict[str, Any]:
        ev = {"kind": kind, "seq": len(self.events), "time": time, **fields}
        self.events.append(ev)
        return ev

    def start(self, *slots: str, cash: float = 1000.0) -> None:
        self.add(
            "run_started",
            0,
            run_id="t-1",
            mode="backtest",
            strategies=list(slots),
            symbols=["X"],
            initial_cash=dict.fromkeys(slots, cash),
        )

    def fill(self, t: int, slot: str, oid: int, side: int, qty: float, price: float,
             cash_after: float, position_after: float, fee: float = 0.0) -> None:  # fmt: skip
        self.add(
            "fill",
            t,
            strategy=slot,
            order_id=oid,
            symbol="X",
            side=side,
            qty=qty,
            price=price,
            fee=fee,
            slippage=0.0,
            liquidity="taker",
            role="entry",
            cash_after=cash_after,
            position_after=position_after,
        )


def timeline(j: Journal) -> Timeline:
    tl = Timeline()
    tl.extend(j.events)
    return tl


def test_position_entry_price_is_averaged_on_adds_and_kept_on_reductions() -> None:
    j = Journal()
    j.start("a")
    j.fill(10, "a", 1, 1, 2.0, 100.0, 800.0, 2.0)
    j.fill(20, "a", 2, 1, 2.0, 110.0, 580.0, 4.0)
    j.fill(30, "a", 3, -1, 1.0, 120.0, 700.0, 3.0)
    st = timeline(j).latest()
    pos = st.traders["a"].positions["X"]
    assert pos.qty == 3.0
    assert pos.entry_price == pytest.approx(105.0)
    # equity at the last price: cash + 3 × 120
    assert st.traders["a"].equity == pytest.approx(700.0 + 360.0)
    assert pos.unrealised(st.prices["X"]) == pytest.approx(3 * 15.0)


def test_flip_through_zero_opens_at_the_fill_price_and_flat_closes() -> None:
    j = Journal()
    j.start("a")
    j.fill(10, "a", 1, 1, 1.0, 100.0, 900.0, 1.0)
    j.fill(20, "a", 2, -1, 2.0, 90.0, 1080.0, -1.0)
    st = timeline(j).latest()
    assert st.traders["a"].positions["X"].qty == -1.0
    assert st.traders["a"].positions["X"].entry_price == 90.0
    j.fill(30, "a", 3, 1, 1.0, 80.0, 1000.0, 0.0)
    assert "X" not in timeline(j).latest().traders["a"].positions


def test_drawdown_follows_the_peak_and_leaderboard_sorts_by_equity() -> None:
    j = Journal()
    j.start("a", "b")
    j.add("equity", 10, strategy="a", equity=1200.0, cash=1200.0)
    j.add("equity", 10, strategy="b", equity=1100.0, cash=1100.0)
    j.add("equity", 20, strategy="a", equity=900.0, cash=900.0)
    st = timeline(j).latest()
    assert st.traders["a"].peak == 1200.0
    assert st.traders["a"].drawdown == pytest.approx(0.25)
    assert [t.strategy for t in st.leaderboard()] == ["b", "a"]
    assert st.traders["a"].curve == [(0, 1000.0), (10, 1200.0), (20, 900.0)]


def test_brackets_show_stop_and_target_until_a_leg_cancels() -> None:
    j = Journal()
    j.start("a")
    j.fill(10, "a", 1, 1, 1.0, 100.0, 900.0, 1.0)
    j.add("bracket_placed", 10, strategy="a", symbol="X", entry_order_id=1,
          stop_order_id=2, stop_price=95.0, target_order_id=3, target_price=110.0)  # fmt: skip
    pos = timeline(j).latest().traders["a"].positions["X"]
    assert (pos.stop_price, pos.target_price) == (95.0, 110.0)
    j.add("oco_cancelled", 11, strategy="a", symbol="X", order_id=3, filled_order_id=2)
    pos = timeline(j).latest().traders["a"].positions["X"]
    assert (pos.stop_price, pos.target_price) == (95.0, None)


def test_shield_states_with_reasons() -> None:
    j = Journal()
    j.start("a")
    j.add("shield_tripped", 5, strategy="a", shield="dd", state="halted", reason="dd 40%")
    j.add("shield_tripped", 6, strategy="*", shield="daily", state="reduce_only", reason="loss")
    st = timeline(j).latest()
    assert st.shields["a"]["dd"].state == "halted"
    assert st.shields["a"]["dd"].reason == "dd 40%"
    assert st.shields["*"]["daily"].state == "reduce_only"
    j.add("shield_released", 7, strategy="a", shield="dd", reason="cooldown over")
    j.add("shield_released", 8, strategy="*", shield="daily", reason="new day")
    st = timeline(j).latest()
    assert st.shields["a"]["dd"].state == "cooling_down"
    assert st.shields["*"]["daily"].state == "armed"


def test_llm_decision_links_signal_orders_fills_and_outcome() -> None:
    j = Journal()
    j.start("llm")
    j.add("llm_decision", 10, strategy="llm", decision_id="llm#1", symbol="X", action="BUY",
          decision={"reasoning": "trend up"}, raw="{}", reason_code="ok", detail="")  # fmt: skip
    j.add("signal", 10, strategy="llm", symbol="X", target="long", reason="[llm#1] trend up")
    j.add("order", 10, strategy="llm", order_id=7, symbol="X", side=1, qty=1.0, role="entry")
    j.fill(20, "llm", 7, 1, 1.0, 100.0, 900.0, 1.0)
    j.add("signal", 30, strategy="other", symbol="X", target="flat", reason="not mine")
    j.add("llm_outcome", 40, strategy="llm", decision_id="llm#1", symbol="X", pnl=5.0)
    st = timeline(j).latest()
    rec = st.decisions["llm#1"]
    assert rec.reasoning == "trend up"
    assert rec.action == "BUY"
    assert rec.signal is not None and rec.signal["seq"] == 2
    assert [o["order_id"] for o in rec.orders] == [7]
    assert [f["price"] for f in rec.fills] == [100.0]
    assert rec.outcome is not None and rec.outcome["pnl"] == 5.0
    # a plain strategy's signal is a decision of its own
    assert st.decisions["other@5"].action == "flat"


def test_regime_and_feed_health() -> None:
    j = Journal()
    j.start("a")
    j.add("regime_changed", 1, symbol="X", regime="volatile", previous=None, confidence=0.8)
    j.add("feed_connected", 2, url="ws://x", connection=2, backfilled_bars=0)
    j.add("feed_gap", 3, symbol="X", channel="ohlc", first=1, last=2, count=2, reason="seq")
    j.add("feed_stale", 4, symbol="X", reason="no data 30s")
    st = timeline(j).latest()
    assert st.regimes["X"] == "volatile"
    assert st.regime_probabilities["X"] == {"volatile": 0.8}
    assert (st.feed.connected, st.feed.connections, st.feed.gaps) == (True, 2, 1)
    assert st.feed.stale == {"X": "no data 30s"}
    j.add("feed_fresh", 5, symbol="X")
    j.add("feed_disconnected", 6, url="ws://x", reason="eof", attempt=1, delay_s=1.0)
    st = timeline(j).latest()
    assert st.feed.stale == {}
    assert st.feed.connected is False


def test_at_shows_the_state_as_it_was_then() -> None:
    j = Journal()
    j.start("a")
    j.fill(10, "a", 1, 1, 1.0, 100.0, 900.0, 1.0)
    j.add("shield_tripped", 15, strategy="a", shield="dd", state="halted", reason="r")
    j.fill(20, "a", 2, -1, 1.0, 120.0, 1020.0, 0.0)
    tl = timeline(j)
    assert tl.times == [0, 10, 15, 20]
    before = tl.at(5)
    assert before.traders["a"].positions == {} and before.traders["a"].cash == 1000.0
    mid = tl.at(12)
    assert mid.traders["a"].positions["X"].qty == 1.0
    assert mid.shields == {}
    assert mid.seq == 1 and len(mid.journal) == 2
    assert tl.at(15).shields["a"]["dd"].state == "halted"
    end = tl.at(20)
    assert end.traders["a"].equity == pytest.approx(1020.0)
    assert end.traders["a"].positions == {}


def test_telemetry_samples_mark_equity_prices_regime_probabilities_and_lag() -> None:
    j = Journal()
    j.start("a")
    j.fill(10, "a", 1, 1, 1.0, 100.0, 900.0, 1.0)
    tl = timeline(j)
    tl.add_sample(
        TelemetrySample(
            time=12,
            wall_time=0.0,
            equity={"a": 1010.0},
            positions={"a": {"X": 1.0}},
            marks={"X": 110.0},
            annotations={
                "regime": {"X": {"label": "calm", "probabilities": {"calm": 0.9, "volatile": 0.1}}}
            },
            lag_ns=5_000_000,
        )
    )
    st = tl.latest()
    assert st.prices["X"] == 110.0
    assert st.traders["a"].equity == 1010.0
    assert st.regimes["X"] == "calm"
    assert st.regime_probabilities["X"]["volatile"] == 0.1
    assert st.feed.lag_ns == 5_000_000
    assert tl.at(11).prices["X"] == 100.0  # the sample at 12 is not seen at 11
    assert tl.at(12).traders["a"].curve[-1] == (12, 1010.0)


def test_demo_journal_folds_to_the_runs_own_summary() -> None:
    events = list(read_journal(DEMO))
    finished = events[-1]
    assert finished["kind"] == "run_finished"
    tl = Timeline()
    tl.extend(events[:-1])  # without run_finished, whose summary would overwrite equity
    st = tl.latest()
    for sid, summary in finished["summary"].items():
        assert st.traders[sid].equity == pytest.approx(summary["final_equity"], rel=1e-9)
        assert st.traders[sid].cash == pytest.approx(summary["cash"], rel=1e-9)
        assert st.traders[sid].trades == summary["trades"]
    assert st.decisions["llm_gemma#1"].reasoning.startswith("Broke below")
