"""Render an :class:`~ml.regime.evaluate.EvaluationReport` as Markdown or rich tables.

Three tables, the same in both renderings: the strategy effect (baselines, then each
detector's filtered and sized variants), the detectors' behaviour (turnover, stress-period
detection lag, false alarms, fit time) and per-regime statistics.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from papertape.ml.regime.evaluate import EvaluationReport, StrategyRow

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["markdown_report", "print_report", "report_tables"]

Table = tuple[str, list[str], list[list[str]]]


def _f(x: float | None, fmt: str = "{:.2f}") -> str:
    return "n/a" if x is None or (isinstance(x, float) and not math.isfinite(x)) else fmt.format(x)


def _pct(x: float | None) -> str:
    return _f(None if x is None else 100.0 * x, "{:.1f}%")


def _strategy_row(detector: str, r: StrategyRow) -> list[str]:
    """A line of the strategy-effect table: a baseline (detector "—") or a detector's variant."""
    return [
        detector,
        r.strategy,
        r.variant,
        _f(r.sharpe),
        _pct(r.max_drawdown),
        _pct(r.cagr),
        _f(r.avg_exposure),
        _f(r.turnover_per_year, "{:.1f}"),
    ]


def report_tables(report: EvaluationReport) -> list[Table]:
    """``(title, headers, rows)`` of every table of the report."""
    s = report.settings
    strat_rows = [_strategy_row("—", r) for r in report.baselines]
    for d in report.detectors:
        strat_rows += [_strategy_row(d.kind, r) for r in d.strategies]
    strategy = (
        f"Strategy effect, out of sample {report.oos_first[:10]} – {report.oos_last[:10]} "
        f"(costs {s['cost_bps']:g} bp per unit traded; sized = exposure × "
        + ", ".join(f"{k} {v:g}" for k, v in s["multipliers"].items() if k != "normal")
        + ")",
        [
            "detector",
            "strategy",
            "variant",
            "Sharpe",
            "max DD",
            "CAGR",
            "avg exposure",
            "turnover/yr",
        ],
        strat_rows,
    )
    periods = [p.period for p in report.detectors[0].stress] if report.detectors else []
    behaviour_rows = []
    for d in report.detectors:
        lags = [
            f"{'n/a' if x.lag_bars is None else x.lag_bars} d / {_pct(x.volatile_share)}"
            for x in d.stress
        ]
        behaviour_rows.append(
            [
                d.kind,
                _f(d.switches_per_year, "{:.1f}"),
                *lags,
                _pct(d.volatile_share_outside_stress),
                str(d.refits),
                _f(d.mean_fit_seconds, "{:.1f}"),
            ]
        )
    behaviour = (
        "Detector behaviour (lag: trading days from the period's start to the first 'volatile' "
        "label / share of the period labelled volatile)",
        ["detector", "switches/yr", *periods, "volatile elsewhere", "refits", "fit s (mean)"],
        behaviour_rows,
    )
    regime_rows = [
        [
            d.kind,
            r.regime,
            _pct(r.share),
            _f(r.mean_run_bars, "{:.1f}"),
            _f(r.expected_duration_bars, "{:.1f}"),
            _pct(r.ann_return),
            _pct(r.ann_volatility),
            _f(r.sharpe),
        ]
        for d in report.detectors
        for r in d.regimes
    ]
    regimes = (
        "Per regime, out of sample (return/volatility/Sharpe of the next day's index return)",
        [
            "detector",
            "regime",
            "share",
            "mean run (d)",
            "E[duration] (d, HMM)",
            "ann. return",
            "ann. vol",
            "Sharpe",
        ],
        regime_rows,
    )
    return [strategy, behaviour, regimes]


def markdown_report(report: EvaluationReport) -> str:
    """The report as Markdown tables."""
    s = report.settings
    lines = [
        f"Data: `{report.data}`; walk-forward from {s.get('first_test_year', '?')}, "
        f"refit every {s.get('refit_years', '?')} year(s) on an expanding window "
        f"({s['refits']} refits); base strategies long only.",
        "",
    ]
    for title, headers, rows in report_tables(report):
        lines += [
            f"**{title}**",
            "",
            "| " + " | ".join(headers) + " |",
            "|" + "|".join("---" for _ in headers) + "|",
        ]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        lines.append("")
    return "\n".join(lines)


def print_report(report: EvaluationReport, console: Console) -> None:
    """The report as rich tables."""
    from rich.table import Table as RichTable

    for title, headers, rows in report_tables(report):
        table = RichTable(title=title, title_justify="left")
        for i, h in enumerate(headers):
            table.add_column(h, justify="left" if i < 3 else "right")
        for r in rows:
            table.add_row(*r)
        console.print(table)
