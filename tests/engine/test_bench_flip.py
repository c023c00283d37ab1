"""``run_flip_bench``: a signal on every bar, and a per-signal figure that adds up."""

from __future__ import annotations

from papertape.engine.bench import run_flip_bench


def test_the_flip_bench_signals_every_bar_and_fills_all_but_the_last() -> None:
    res = run_flip_bench(bars=300)
    assert (res.signals, res.fills) == (300, 299)  # the last decision has no next bar
    expected = (res.flip_seconds - res.quiet_seconds) * 1e9 / 300
    assert abs(res.ns_per_signal - expected) <= 400  # seconds are rounded to 0.1 ms
