"""Regenerate the monitor's screenshots in docs/img: ``python docs/img/screenshots.py``.

1. The run monitor on the recorded demo run (``tests/monitor/data/demo``, the journal the
   snapshot tests use) with the same keys as ``tests/monitor/test_snapshots.py``: the
   dashboard at the end, scrubbed back and focused on one trader, and the LLM's decision.
2. The arena monitor: ``configs/arena.toml`` without its LLM traders (no model needed), its
   first two windows on the real tape, run in a child process exactly as ``papertape arena
   configs/arena.toml --tui --windows 2`` does, captured once the arena ended.

Each screen is Textual's SVG screenshot (``App.export_screenshot``) at 140x45 cells, drawn
to a 1500x1000 PNG by headless Chromium (``chromium`` on the PATH). Needs ``papertape[tui]``.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from papertape.arena import parse_arena_config
from papertape.monitor.app import MonitorApp
from papertape.monitor.arena_session import ArenaSession
from papertape.monitor.source import RunFolder

ROOT = Path(__file__).resolve().parents[2]
IMG = ROOT / "docs" / "img"
DEMO = ROOT / "tests" / "monitor" / "data" / "demo"
SIZE = (140, 45)

SCENES = {
    "monitor-dashboard": [],
    "monitor-scrubbed": ["space", *["left_square_bracket"] * 60, "t"],
    "monitor-decision": ["t", "t", "t", "k", "k", "k", "k", "k", "d"],
}


async def demo_svg(keys: list[str]) -> str:
    """The monitor on the recorded demo after ``keys``."""
    app = MonitorApp(RunFolder(DEMO))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for key in keys:
            await pilot.press(key)
        await pilot.pause(0.3)
        return app.export_screenshot()


async def arena_svg(journals: Path) -> str:
    """The arena monitor once two windows of configs/arena.toml (rule-based) ended."""
    with open(ROOT / "configs" / "arena.toml", "rb") as fh:
        raw = tomllib.load(fh)
    raw["strategies"] = [s for s in raw["strategies"] if s["name"] != "llm_trader"]
    raw["journal"]["dir"] = str(journals)
    raw["arena"]["blind"] = False  # real dates on the screenshot (blind tapes are rebased)
    session = ArenaSession(parse_arena_config(raw, ROOT / "configs"), windows=2, poll=0.02)
    try:
        session.start(timeout=120)
        app = MonitorApp(session, refresh_s=0.05)
        async with app.run_test(size=SIZE) as pilot:
            while session.running:
                await pilot.pause(0.1)
            session.raise_failure()  # a failed arena draws no screenshot
            await pilot.pause(0.5)
            return app.export_screenshot()
    finally:
        session.close()
        session.stop()
        session.cleanup()


def to_png(svg: str, png: Path, work: Path) -> None:
    """Draw ``svg`` to a 1500x1000 PNG with headless Chromium."""
    (work / "screen.svg").write_text(svg, encoding="utf-8")
    (work / "screen.html").write_text(
        '<html><body style="margin:0;background:#1e1e1e">'
        '<img src="screen.svg" style="width:1500px;height:1000px"></body></html>',
        encoding="utf-8",
    )
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or "google-chrome"
    subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--hide-scrollbars", "--disable-gpu",
         "--window-size=1500,1000", f"--screenshot={png}", str(work / "screen.html")],
        check=True, capture_output=True,
    )  # fmt: skip


def main() -> int:
    """Write every screenshot; print the files."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, keys in SCENES.items():
            to_png(asyncio.run(demo_svg(keys)), IMG / f"{name}.png", work)
            print(IMG / f"{name}.png")
        to_png(asyncio.run(arena_svg(work / "journals")), IMG / "monitor-arena.png", work)
        print(IMG / "monitor-arena.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
