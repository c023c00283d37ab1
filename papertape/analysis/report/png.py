"""PNG exports of the report's main charts, screenshotted by headless Chromium.

kaleido needs a Chrome of its own; Debian's ``chromium`` package does the same job from the
command line: each chart is written as a small offline page and captured with
``--screenshot``. No Chromium binary: :class:`~papertape.engine.errors.ConfigError` says so.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import plotly.offline

from papertape.engine.errors import ConfigError

__all__ = ["CHROMIUM_NAMES", "chromium_binary", "chromium_command", "write_pngs"]

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
WIDTH, HEIGHT = 1200, 560


def chromium_binary() -> str | None:
    """The first Chromium-like browser on PATH, or None."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def chromium_command(binary: str, *args: str) -> list[str]:
    """A headless, sandbox-free (root in containers) Chromium command line."""
    return [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        "--virtual-time-budget=10000",
        *args,
    ]


def write_pngs(report: Path, out_dir: Path, doc: dict[str, Any]) -> list[Path]:
    """Screenshot the main charts of an arena into ``<out_dir>/<report stem>-<chart>.png``.

    Args:
        report: The HTML report (names the files).
        out_dir: Where the PNGs go.
        doc: The arena document (``arena.json``).

    Raises:
        ConfigError: No Chromium binary on PATH.

    Returns:
        The written PNG paths.
    """
    from papertape.analysis.report.page import main_figures

    binary = chromium_binary()
    if binary is None:
        raise ConfigError(
            "--png", str(out_dir), "no Chromium binary on PATH (apt-get install chromium)"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    js = plotly.offline.get_plotlyjs()
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, fig in main_figures(doc):
            fig.update_layout(width=WIDTH, height=HEIGHT)
            page = Path(tmp) / f"{name}.html"
            body = fig.to_html(full_html=False, include_plotlyjs=False, config={"staticPlot": True})
            page.write_text(
                f'<!DOCTYPE html><html><head><meta charset="utf-8"><script>{js}</script>'
                f'</head><body style="margin:0">{body}</body></html>',
                encoding="utf-8",
            )
            png = out_dir / f"{report.stem}-{name}.png"
            subprocess.run(
                chromium_command(
                    binary,
                    f"--screenshot={png}",
                    f"--window-size={WIDTH},{HEIGHT + 20}",
                    page.as_uri(),
                ),
                check=True,
                capture_output=True,
                timeout=120,
            )
            written.append(png)
    return written
