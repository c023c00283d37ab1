"""The several-minutes acceptance run: a forced disconnect every 30 s, the same fills.

Marked ``bench`` (not in the default suite; ``pytest -m bench tests/engine/live``): about
three minutes of wall time. The quick version is ``test_session.py``.
"""

from __future__ import annotations

import pytest

from tests.engine.live.conftest import alt_tape, run, serving
from tests.engine.live.test_session import bar_keys, fill_keys, session

pytestmark = pytest.mark.bench

BARS = 3000  # 48,000 messages
SPEED = 1000.0  # 3000 one-minute bars in 180 s


def test_three_minutes_with_a_disconnect_every_30_seconds_gives_the_same_fills() -> None:
    async def go(**server: object) -> tuple[object, object]:
        async with serving(alt_tape(bars=BARS), **server) as srv:
            _, rec, s = await session(srv.url)
            return rec, s

    clean, _ = run(go(speed=0.0), timeout=120)
    dropped, dropped_s = run(go(speed=SPEED, drop_interval_s=30.0), timeout=600)
    assert dropped_s.feed.stats.reconnects >= 5  # type: ignore[attr-defined]
    assert len(fill_keys(clean)) > 100  # type: ignore[arg-type]
    assert fill_keys(dropped) == fill_keys(clean)  # type: ignore[arg-type]
    assert bar_keys(dropped) == bar_keys(clean)  # type: ignore[arg-type]
