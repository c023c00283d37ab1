"""Live sessions against the local replay server: disconnects change nothing, gaps are backfilled.

The acceptance test of issue #3: a session under forced disconnects ends with exactly the fills
of an uninterrupted session over the same data. The server is driven as fast as the client
reads and drops the connection every few hundred messages, so the test takes seconds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from papertape.engine.live import LiveSession
from papertape.engine.loop import STALE_FEED
from papertape.engine.session import SessionResult
from tests.conftest import Recorder
from tests.engine.live.conftest import alt_tape, live_config, run, serving

STRATEGY_DIR = str(Path(__file__).parent / "strategies")
STRATEGIES = [
    {
        "name": "sma_cross",
        "id": "sma",
        "params": {"fast": 5, "slow": 20},
        "sizer": {"name": "fixed", "qty": 150.0},
    },
    {"name": "dip_buyer", "id": "dips", "sizer": {"name": "fixed", "qty": 60.0}},
]


def fill_keys(rec: Recorder) -> list[tuple[Any, ...]]:
    return [
        (e.strategy, e.order_id, e.side, e.qty, e.price, e.fee, e.liquidity, e.time)
        for e in rec.kinds("fill")
    ]


def bar_keys(rec: Recorder) -> list[tuple[Any, ...]]:
    return [(e.time, e.symbol, e.target) for e in rec.kinds("signal")]


async def session(
    url: str, strategies: list[dict[str, Any]] | None = None, **live: Any
) -> tuple[SessionResult, Recorder, LiveSession]:
    config = live_config(url, strategies or STRATEGIES, **live)
    raw = config.canonical()
    raw["plugins"]["strategy_dirs"] = [STRATEGY_DIR]
    from papertape.engine.config import parse_config

    rec = Recorder()
    s = LiveSession(parse_config(raw), extra_plugins=[rec])
    return await s.run(), rec, s


async def replay(tape_bars: int = 400, **server: Any) -> tuple[Recorder, LiveSession]:
    async with serving(alt_tape(bars=tape_bars), **server) as srv:
        _, rec, s = await session(srv.url)
        assert srv.finished.is_set()
        return rec, s


def test_forced_disconnects_end_with_the_same_fills_as_an_uninterrupted_run() -> None:
    clean, clean_s = run(replay())
    dropped, dropped_s = run(replay(drop_every=700))

    fills = fill_keys(clean)
    assert len(fills) > 40  # market, partial limit and bracket fills all happen
    assert {f[6] for f in fills} == {"maker", "taker"}
    assert any(e.role == "take_profit" for e in clean.kinds("fill"))
    assert fill_keys(dropped) == fills
    assert bar_keys(dropped) == bar_keys(clean)
    assert dropped_s.engine.bars == clean_s.engine.bars == 429  # 30 history + 400 - forming
    # the reconnect path really ran, every time from scratch
    assert clean_s.feed.stats.reconnects == 0
    assert dropped_s.feed.stats.reconnects >= 8
    assert len(dropped.kinds("feed_connected")) == dropped_s.feed.stats.reconnects + 1
    assert dropped_s.feed.stats.deduplicated > 0  # snapshots repeated what was seen
    assert not dropped_s.feed.stats.rejected  # ... and nothing looked out of order
    # stale vetoes: only decisions on the 29 closed history candles of the first snapshot
    stale = [v for v in dropped.kinds("veto") if v.shield == STALE_FEED]
    assert stale == [v for v in clean.kinds("veto") if v.shield == STALE_FEED]
    assert all("backfilled" in v.reason for v in stale)
    assert len({v.time for v in stale}) == 29
    for a, b in zip(clean_s.engine.slots, dropped_s.engine.slots, strict=True):
        assert a.portfolio.cash == b.portfolio.cash
        assert list(a.portfolio.curve) == list(b.portfolio.curve)


def test_malformed_unknown_and_out_of_order_messages_never_reach_a_strategy() -> None:
    clean, _ = run(replay(tape_bars=200))
    noisy, noisy_s = run(replay(tape_bars=200, garbage_every=25))
    rejected = noisy_s.feed.stats.rejected
    assert set(rejected) >= {
        "malformed_json",
        "malformed",
        "unknown_channel",
        "unknown_method",
        "unknown_type",
        "duplicate",
        "out_of_order",
    }
    assert sum(rejected.values()) == 3200 // 25
    assert len(noisy.kinds("message_rejected")) == sum(rejected.values())
    assert fill_keys(noisy) == fill_keys(clean)
    assert bar_keys(noisy) == bar_keys(clean)


def test_realtime_disconnects_backfill_bars_and_mark_trade_gaps() -> None:
    flipper = [{"name": "flipper", "id": "flip", "sizer": {"name": "fixed", "qty": 10.0}}]

    async def go(**server: Any) -> tuple[Recorder, LiveSession]:
        async with serving(alt_tape(bars=150), **server) as srv:
            _, rec, s = await session(
                srv.url, flipper, reconnect_initial_s=0.25, reconnect_max_s=0.25
            )
            return rec, s

    clean, _ = run(go(speed=6000.0))  # 10 ms a bar
    lossy, lossy_s = run(go(speed=6000.0, realtime=True, drop_every=400))
    stats = lossy_s.feed.stats
    assert stats.reconnects >= 2
    # no candle is missing: the ones missed while away came from the ohlc snapshots. A real-time
    # tape can run out while the client is away, so the lossy session may stop a few bars
    # short: it must then be an exact prefix of the clean one, never a sequence with holes.
    lossy_times = [e.time for e in lossy.kinds("signal")]
    clean_times = [e.time for e in clean.kinds("signal")]
    assert lossy_times == clean_times[: len(lossy_times)]
    assert len(lossy_times) >= len(clean_times) - 30  # at most one 0.25 s reconnect (25 bars)
    assert stats.backfilled_bars > 29  # more than the initial history
    # the trade snapshot holds 50 prints: more were missed, and that is marked
    trade_gaps = [g for g in lossy.kinds("feed_gap") if g.channel == "trade"]
    assert trade_gaps and stats.trade_gap_ids == sum(g.count for g in trade_gaps)
    # decisions on backfilled bars were not traded
    stale_vetoes = [v for v in lossy.kinds("veto") if v.shield == STALE_FEED]
    assert stale_vetoes and all("backfilled" in v.reason for v in stale_vetoes)
    assert len(lossy.kinds("order")) < len(clean.kinds("order"))


@pytest.mark.parametrize("kind", ["feed_summary", "run_finished"])
def test_the_session_journals_its_feed_summary_and_end(kind: str) -> None:
    rec, s = run(replay(tape_bars=20))
    (event,) = rec.kinds(kind)
    if kind == "feed_summary":
        assert event.counts["bars"] == s.feed.stats.bars == 49
        assert event.counts["connections"] == 1
    else:
        assert set(event.summary) == {"sma", "dips"}
