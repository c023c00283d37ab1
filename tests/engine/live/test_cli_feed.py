"""``papertape feed serve/record`` and ``papertape run`` on a live config, as a user runs them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import papertape.engine.feeds.kraken as kraken_pkg
import papertape.engine.live as live_pkg
from papertape.engine.cli.main import main
from papertape.engine.config import load_config
from papertape.engine.feeds.capture import read_capture, read_header
from papertape.engine.feeds.kraken.sources import load_tape
from papertape.engine.live import LiveSession
from tests.engine.live.conftest import SYMBOL, alt_tape, run, serving
from tests.engine.live.test_client import consume

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def feed_server() -> Iterator[str]:
    """``papertape feed serve`` in its own process on an ephemeral port; yields its URL."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "papertape.engine.cli.main",
            "feed",
            "serve",
            "--replay",
            "binance_altbtc_1m.csv",
            "--symbol",
            SYMBOL,
            "--speed",
            "0",
            "--port",
            "0",
            "--history",
            "30",
            "--bars",
            "60",
            "--exit-at-end",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        found = re.search(r"ws://127\.0\.0\.1:\d+", line)
        assert found, f"no URL in {line!r}; stderr: {proc.stderr.read() if proc.stderr else ''}"
        yield found.group(0)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_record_a_served_stream_and_serve_the_capture_again(
    feed_server: str, tmp_path: Path
) -> None:
    out = tmp_path / "alt.capture"
    assert (
        main(["feed", "record", "--symbol", SYMBOL, "--out", str(out), "--url", feed_server]) == 0
    )
    header = read_header(out)
    assert header["symbols"] == [SYMBOL] and header["source"] == feed_server
    frames = list(read_capture(out))
    assert len(frames) > 60 * 16  # every update of 60 bars, plus control frames
    assert all(t > 0 for t, _ in frames)
    # the capture, served again, gives the client the same bars as the original tape
    direct, _, _, _ = run(consume(tape_bars=60))
    replayed = run(_consume_tape(load_tape(out)))
    assert replayed == [b[:2] for b in direct.bars]


async def _consume_tape(tape: Any) -> list[tuple[int, float]]:
    from papertape.engine.feeds.kraken.client import FeedOptions, KrakenFeed
    from tests.engine.live.test_stream import Collect

    h = Collect()
    async with serving(tape) as srv:
        await KrakenFeed(FeedOptions((SYMBOL,), srv.url), h).run()
    return [b[:2] for b in h.bars]


def test_papertape_run_on_a_live_config(
    feed_server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (ROOT / "configs" / "live-local.toml").read_text(encoding="utf-8")
    config = tmp_path / "live.toml"
    config.write_text(text.replace("ws://127.0.0.1:8765", feed_server), encoding="utf-8")
    assert main(["run", str(config), "--json", "--journal-dir", str(tmp_path / "j")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["bars"] == 89  # 29 history bars + 60 live ones (the last still forming)
    assert set(result["strategies"]) == {"sma_fast", "sma_slow"}
    assert result["run_id"].startswith("live-local-")
    journal = Path(result["journal"])
    kinds = [json.loads(line)["kind"] for line in journal.read_text().splitlines()]
    assert kinds[0] == "run_started" and "feed_connected" in kinds and "feed_summary" in kinds


def test_shipped_live_configs_build_a_session() -> None:
    for name, url in (
        ("live-kraken.toml", "wss://ws.kraken.com/v2"),
        ("live-local.toml", "ws://127.0.0.1:8765"),
    ):
        config = load_config(ROOT / "configs" / name)
        assert config.run.mode == "live" and config.live is not None
        assert config.live.url == url
        session = LiveSession(config, journal=False)  # builds everything, connects nothing
        assert session.engine.symbols == tuple(config.live.symbols)


def test_feed_serve_refuses_bad_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["feed", "serve", "--replay", "binance_altbtc_1m.csv", "--speed", "-1"]) == 2
    assert "--speed" in capsys.readouterr().err
    assert main(["feed", "serve", "--replay", "no_such_file.csv"]) == 2


def test_public_exports() -> None:
    for pkg in (kraken_pkg, live_pkg):
        assert sorted(pkg.__all__) == sorted(set(pkg.__all__))
        for name in pkg.__all__:
            assert getattr(pkg, name) is not None, name
    assert {"KrakenFeed", "OrderBook", "load_tape"} <= set(kraken_pkg.__all__)
    assert {"LiveSession", "LiveEngine", "run_live"} <= set(live_pkg.__all__)
    assert alt_tape(bars=1).symbols == (SYMBOL,)
