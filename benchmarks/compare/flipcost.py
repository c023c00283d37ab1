# ruff: noqa
"""Per-signal cost on any papertape checkout (PYTHONPATH selects it): flip vs quiet, journal on."""

import json, sys, tempfile, time
from papertape.engine.bench import synthetic_series
from papertape.engine.config import parse_config
from papertape.engine.execution.orders import Signal
from papertape.engine.session import build_engine
from papertape.engine.strategy import Strategy

LONG, FLAT = Signal.long(), Signal.flat()


class Quiet(Strategy):
    name = "q"

    def on_bar(self, snap, pf):
        return None


class Flip(Strategy):
    name = "f"  # long / flat alternately: a signal, an order and a fill every bar, any account

    def on_bar(self, snap, pf):
        return LONG if snap.counts[snap.symbol_index] % 2 else FLAT


bars = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
journal = (sys.argv[2] != "off") if len(sys.argv) > 2 else True
data = [synthetic_series("SYM0", bars, 7)]
out = {}
with tempfile.TemporaryDirectory() as tmp:
    for label, strat in (("quiet", Quiet()), ("flip", Flip())):
        raw = {
            "run": {"name": f"b-{label}", "seed": 7},
            "data": [{"path": "SYM0"}],
            "execution": {"maker_bps": 2.0, "taker_bps": 5.0, "slippage": {"bps": 1.0}},
            "strategies": [
                {"name": "sma_cross", "id": label, "sizer": {"name": "fixed", "qty": 1.0}}
            ],
            "journal": {"dir": tmp, "enabled": journal},
            "plugins": {"entry_points": False},
        }
        engine, writer = build_engine(parse_config(raw), data)
        engine.slots[0].strategy = strat
        c0 = time.process_time()
        t0 = time.perf_counter()
        try:
            engine.run_sync()
        finally:
            if writer is not None:
                writer.close()
        out[label] = (time.perf_counter() - t0, time.process_time() - c0)
        sig = engine.event_counts.get("signal", 0)
print(
    json.dumps(
        {
            "signals": sig,
            "us_per_signal_wall": round((out["flip"][0] - out["quiet"][0]) * 1e6 / sig, 2),
            "us_per_signal_cpu": round((out["flip"][1] - out["quiet"][1]) * 1e6 / sig, 2),
            "quiet_bars_per_s": round(bars / out["quiet"][0]),
        }
    )
)
