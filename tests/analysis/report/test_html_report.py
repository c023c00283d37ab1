"""The arena's HTML report: built from a real (small) arena run, opened in headless Chromium."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from papertape.analysis.report import chromium_binary, chromium_command, write_report
from papertape.arena import arena_document, parse_arena_config, run_arena
from tests.arena.conftest import RuleModel, arena_raw, llm_entry, serve_rule_model


@pytest.fixture
def rule_model() -> Iterator[RuleModel]:
    yield from serve_rule_model()


@pytest.fixture
def doc(tmp_path: Path, rule_model: RuleModel) -> dict:
    entry = llm_entry("llm", rule_model.url, tmp_path / "cache", every=40, warmup=20)
    rules = {"name": "momentum", "id": "mom", "params": {"lookback": 60}}
    cfg = parse_arena_config(arena_raw(tmp_path, strategies=[entry, rules], blind="both"), tmp_path)
    return arena_document(run_arena(cfg))


def test_the_page_is_self_contained_and_holds_every_part(doc: dict, tmp_path: Path) -> None:
    out = write_report(doc, tmp_path / "r" / "report.html")
    html = out.read_text()
    assert re.search(r"<script[^>]*\ssrc=", html) is None  # offline: nothing is fetched
    assert "Plotly.newPlot" in html and len(html) > 3_000_000  # plotly.js is inside
    for text in ("Leaderboard · real tape", "Leaderboard · blind tape", "Every LLM decision",
                 "Does the edge survive blinding?", "Equity and drawdown", "Trades on price",
                 "Calibration", 'id="f-trader"', 'id="f-action"'):  # fmt: skip
        assert text in html, text
    n_decisions = sum(len(t["decisions"]) for w in doc["windows"] for t in w["traders"].values())
    assert html.count('data-trader="llm"') == n_decisions > 0
    assert "flat, so buy" in html  # the reasoning is shown


def test_chromium_renders_the_charts_and_the_tables(doc: dict, tmp_path: Path) -> None:
    binary = chromium_binary()
    if binary is None:
        pytest.skip("no Chromium binary on PATH (apt-get install chromium) to open the report")
    out = write_report(doc, tmp_path / "report.html")
    dom = subprocess.run(
        chromium_command(binary, "--dump-dom", out.as_uri()),
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    ).stdout
    n_charts = 2 * len(doc["summary"]["leaderboards"]) + 2 * len(doc["windows"])
    assert dom.count('class="main-svg"') >= n_charts  # every chart was drawn by plotly
    assert dom.count("<tr") > 20
    assert "buy_and_hold" in dom and "flat, so buy" in dom
    assert "decisions shown" in dom  # the filter script ran


def test_png_exports_of_the_main_charts(doc: dict, tmp_path: Path) -> None:
    if chromium_binary() is None:
        pytest.skip("no Chromium binary on PATH (apt-get install chromium) to screenshot charts")
    from papertape.analysis.report import write_pngs

    pngs = write_pngs(tmp_path / "arena.html", tmp_path / "img", doc)
    assert [p.name for p in pngs] == [
        "arena-equity.png", "arena-trades.png", "arena-leaderboard.png", "arena-calibration.png",
    ]  # fmt: skip
    for p in pngs:
        data = p.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000
