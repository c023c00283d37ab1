"""Record the arena that the arena monitor's tests show.

Run ``python tests/monitor/data/record_arena.py`` from the repository root.

Plays two one-year windows (2016, 2017) of the shipped S&P 500 bars with three rule-based
traders and the default baselines, in this process, with the observer ``papertape arena
CONFIG --tui``'s child uses (:class:`~papertape.arena.watch.ArenaProgress`), then keeps what
the monitor reads once the arena ended: the hand-over folder's ``progress.json`` (windows
done, the leaderboard) as ``arena/progress.json``, and the last window's run folder
(journal, config, manifest) as ``arena/window``. The window ran in well under a second, so
its telemetry side file held a sample or two: it is left out, and the monitor draws equity
from the journal's fills and marks, as for the recorded demo run. The temporary folder's
paths become ``journals/...`` (the tests point the monitor at ``arena/window`` themselves).
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

from papertape.arena import parse_arena_config
from papertape.arena.runner import arena_id, run_arena
from papertape.arena.watch import PROGRESS_FILE, ArenaProgress

HERE = Path(__file__).resolve().parent
OUT = HERE / "arena"
ROOT = HERE.parents[2]
SIZER = {"name": "fraction", "fraction": 0.5, "max_fraction": 0.95}
SHIELD = [{"name": "max_drawdown", "reduce_only_at": 0.10, "halt_at": 0.30, "release_at": 0.05}]


def raw_config(journals: Path) -> dict[str, object]:
    """The recorded arena's config mapping (rule-based: no model, no network)."""
    traders = [
        ("sma_trend", "sma_cross", {"fast": 10, "slow": 40, "entry": "trend"}),
        ("momentum_60", "momentum", {"lookback": 60}),
        ("bollinger_20", "bollinger_breakout", {"period": 20, "k": 2.0}),
    ]
    return {
        "run": {"name": "snap", "seed": 5, "initial_cash": 100_000.0},
        "data": [{"path": "sp500_daily.csv", "symbol": "SPX"}],
        "execution": {"taker_bps": 5.0, "slippage": {"model": "fixed", "bps": 2.0}},
        "strategies": [
            {"name": name, "id": sid, "params": params, "sizer": SIZER, "shields": SHIELD}
            for sid, name, params in traders
        ],
        "journal": {"dir": str(journals)},
        "plugins": {"entry_points": False},
        "arena": {
            "windows": [
                {"start": "2016-01-01", "end": "2016-12-31"},
                {"start": "2017-01-01", "end": "2017-12-31"},
            ],
            "warmup_bars": 100,
            "bootstrap_reps": 200,
            "blind": False,
        },
    }


def main() -> int:
    """Play the arena and keep the files the monitor reads at its end."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        config = parse_arena_config(raw_config(work / "journals"), ROOT / "configs")
        handover = work / "handover"
        handover.mkdir()
        progress = ArenaProgress(handover, 2, arena_id(config))
        run_arena(config, observer=progress)
        doc = json.loads((handover / PROGRESS_FILE).read_text(encoding="utf-8"))
        window = Path(doc["current"]["run_dir"])
        shutil.rmtree(OUT, ignore_errors=True)
        keep = ("events.jsonl", "config.json", "manifest.json")
        skip = shutil.ignore_patterns(*(p.name for p in window.iterdir() if p.name not in keep))
        shutil.copytree(window, OUT / "window", ignore=skip)
        text = json.dumps(doc, indent=1) + "\n"
        (OUT / PROGRESS_FILE).write_text(text.replace(f"{work}/", ""), encoding="utf-8")
        config_file = OUT / "window" / "config.json"
        text = config_file.read_text(encoding="utf-8").replace(str(work / "journals"), "journals")
        config_file.write_text(text, encoding="utf-8")
    for path in sorted(OUT.rglob("*")):
        print(path.relative_to(HERE), path.stat().st_size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
