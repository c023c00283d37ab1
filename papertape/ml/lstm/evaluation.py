"""Out-of-sample trading metrics of the LSTM direction strategy, through the engine itself.

For each test year a model is trained on every bar before the year (as in
:func:`~papertape.ml.lstm.model.walk_forward`) and saved; then one ordinary run config is
written for the year (``[run] start``/``end`` with ``warmup_bars`` before it, the same data,
costs and sizer for every contender) and run with :func:`~papertape.engine.session.run_session`
with its journal, exactly what ``papertape run <that config>`` does. Contenders on the same
windows: the ``lstm_direction`` strategy with that year's model, ``buy_and_hold`` and a simple
rule (``sma_cross`` 10/30 by default).

From each run: the engine's metrics per window (Sharpe, max drawdown, CAGR, closed trades) and,
from the journal's ``fill`` events, the traded notional. Pooled over the years: the windows'
daily equity returns are chained per contender (Sharpe, max drawdown, CAGR, turnover per year,
trades), and the LSTM's returns are compared with each baseline's by the paired HAC-bootstrap
Sharpe test the arena uses (``papertape.analysis.significance.sharpe_difference``). The
direction metrics (accuracy, AUC, Brier) of the same models on the same years come with them.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from papertape.engine.errors import DataError
from papertape.ml.lstm.model import direction_metrics, predict_window, train_direction, year_bounds

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import NDArray

    from papertape.engine.feeds.base import BarSeries
    from papertape.engine.session import SessionResult

__all__ = ["LstmEvaluation", "WindowResult", "evaluate_lstm", "window_config"]

LSTM, HOLD, RULE = "lstm", "buy_and_hold", "rule"


@dataclass(frozen=True, slots=True)
class WindowResult:
    """One contender on one test year, as its run reported it."""

    year: int
    contender: str
    sharpe: float
    max_drawdown: float
    cagr: float
    trades: int
    traded_notional: float
    initial_equity: float
    exposure: float  # share of the window's bars with a position
    returns: NDArray[np.float64]
    journal: str | None


@dataclass(slots=True)
class LstmEvaluation:
    """Everything :func:`evaluate_lstm` measured."""

    test_years: list[int]
    direction: dict[str, float]
    windows: list[WindowResult] = field(default_factory=list)
    pooled: list[dict[str, Any]] = field(default_factory=list)
    configs: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (no return series)."""
        return {
            "test_years": self.test_years,
            "direction": self.direction,
            "pooled": self.pooled,
            "windows": [
                {
                    "year": w.year,
                    "contender": w.contender,
                    "sharpe": round(w.sharpe, 4),
                    "max_drawdown": round(w.max_drawdown, 4),
                    "cagr": round(w.cagr, 4),
                    "trades": w.trades,
                    "exposure": round(w.exposure, 4),
                    "journal": w.journal,
                }
                for w in self.windows
            ],
            "configs": self.configs,
        }


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }"
    return json.dumps(str(v))  # a TOML basic string is a JSON string


def window_config(
    name: str,
    data: Path,
    symbol: str,
    year: int,
    model: Path,
    journal_dir: Path,
    *,
    enter: float = 0.55,
    exit_below: float = 0.5,
    rule: dict[str, Any] | None = None,
    fee_bps: float = 1.0,
    slippage_bps: float = 2.0,
    fraction: float = 0.95,
    warmup_bars: int = 60,
    cash: float = 100_000.0,
) -> str:
    """The TOML run config of one test year: LSTM, buy-and-hold and the rule, same costs."""
    start, end = f"{year}-01-01", f"{year + 1}-01-01"
    sizer = {"name": "fraction", "fraction": fraction}
    slots = [
        (LSTM, "lstm_direction", {"model": str(model), "enter": enter, "exit": exit_below}),
        (HOLD, "buy_and_hold", {}),
        (RULE, "sma_cross", rule or {"fast": 10, "slow": 30}),
    ]
    lines = [
        "# One out-of-sample year of `papertape evaluate lstm` (run it with `papertape run`).",
        "[run]",
        f"name = {_toml_value(f'{name}-{year}')}",
        f"start = {_toml_value(start)}",
        f"end = {_toml_value(end)}",
        f"warmup_bars = {warmup_bars}",
        f"initial_cash = {cash!r}",
        "",
        "[[data]]",
        f"path = {_toml_value(data)}",
        f"symbol = {_toml_value(symbol)}",
        "",
        "[execution]",
        'fill_at = "next_open"',
        f"maker_bps = {fee_bps!r}",
        f"taker_bps = {fee_bps!r}",
        f'slippage = {{ model = "fixed", bps = {slippage_bps!r} }}',
        "",
    ]
    for slot_id, strategy, params in slots:
        lines += [
            "[[strategies]]",
            f"name = {_toml_value(strategy)}",
            f"id = {_toml_value(slot_id)}",
            f"params = {_toml_value(params)}",
            f"sizer = {_toml_value(sizer)}",
            "",
        ]
    lines += ["[journal]", f"dir = {_toml_value(journal_dir)}", ""]
    return "\n".join(lines)


def _window_results(year: int, result: SessionResult) -> list[WindowResult]:
    """Per contender: the run's metrics, its daily returns and (from the journal) fills."""
    from papertape.engine.journal import read_journal

    notional = dict.fromkeys(result.strategies, 0.0)
    if result.journal_path is not None:
        for rec in read_journal(result.journal_path.parent):
            if rec["kind"] == "fill":
                notional[rec["strategy"]] += abs(rec["qty"]) * rec["price"]
    out = []
    for sid, r in result.strategies.items():
        eq = np.concatenate([[r.metrics.initial_equity], np.asarray(r.equity, dtype=np.float64)])
        m = r.metrics
        out.append(
            WindowResult(
                year,
                sid,
                m.sharpe,
                m.max_drawdown,
                m.cagr,
                m.trades,
                notional[sid],
                m.initial_equity,
                m.exposure,
                eq[1:] / eq[:-1] - 1.0,
                None if result.journal_path is None else str(result.journal_path.parent),
            )
        )
    return out


def _pooled(windows: list[WindowResult]) -> list[dict[str, Any]]:
    """Chained returns per contender; the LSTM against each baseline (paired Sharpe test).

    Turnover is the fills' notional over the average equity, per year of bars (252).
    """
    from papertape.analysis.significance import sharpe_difference
    from papertape.ml.rl.evaluation import PERIODS_PER_YEAR, summarise_returns

    names = [LSTM, HOLD, RULE]
    chained = {n: np.concatenate([w.returns for w in windows if w.contender == n]) for n in names}
    rows = []
    for n in names:
        mine = [w for w in windows if w.contender == n]
        # each window starts a fresh portfolio with the same cash
        equity = np.concatenate(
            [w.initial_equity * np.cumprod(1.0 + w.returns) for w in mine if len(w.returns)]
        )
        traded = sum(w.traded_notional for w in mine)
        summary = summarise_returns(n, chained[n], traded / float(np.mean(equity)))
        row: dict[str, Any] = {
            "contender": n,
            "sharpe": round(summary.sharpe, 3),
            "max_drawdown": round(summary.max_drawdown, 4),
            "cagr": round(summary.cagr, 4),
            "turnover": round(summary.turnover, 2),
            "trades": sum(w.trades for w in mine),
            "exposure": round(
                sum(w.exposure * len(w.returns) for w in mine) / max(len(chained[n]), 1), 3
            ),
            "bars": len(chained[n]),
        }
        if n != LSTM:
            test = sharpe_difference(
                chained[LSTM], chained[n], periods_per_year=PERIODS_PER_YEAR, seed=0
            )
            row["lstm_minus_this_sharpe"] = round(test.statistic, 3)
            row["ci"] = [round(test.ci_low, 3), round(test.ci_high, 3)]
            row["p_value"] = round(test.p_value, 4)
        rows.append(row)
    return rows


def evaluate_lstm(
    series: BarSeries,
    data: Path,
    test_years: list[int],
    out: Path,
    *,
    settings: dict[str, Any] | None = None,
    enter: float = 0.55,
    exit_below: float = 0.5,
    rule: dict[str, Any] | None = None,
    fee_bps: float = 1.0,
    slippage_bps: float = 2.0,
    warmup_bars: int = 60,
    cash: float = 100_000.0,
    progress: Callable[[int, int], None] | None = None,
) -> LstmEvaluation:
    """Walk forward over ``test_years``: train before each, trade it through the engine.

    Args:
        series: The whole data, loaded from ``data``.
        data: The data file (the window configs name it).
        test_years: Calendar years tested out of sample.
        out: Folder for the models (``models/lstm-<year>``), configs and journals.
        settings: Training settings of :func:`train_direction` (lookback, hidden, ...).
        enter: The strategy's ``enter`` threshold on P(up).
        exit_below: Its ``exit`` threshold.
        rule: Parameters of the ``sma_cross`` baseline (default fast 10, slow 30).
        fee_bps: Maker and taker fee, bps.
        slippage_bps: Fixed slippage, bps.
        warmup_bars: Bars before each year that only warm the strategies up.
        cash: Initial cash of every contender.
        progress: Called with (years done, years).

    Raises:
        DataError: No test year, or a year without bars.
    """
    from papertape.engine.config import parse_config
    from papertape.engine.session import run_session

    if not test_years:
        raise DataError("give at least one test year")
    out = Path(out).resolve()
    (out / "configs").mkdir(parents=True, exist_ok=True)
    settings = dict(settings or {})
    ev = LstmEvaluation(list(test_years), {})
    probs, truth = [], []
    for i, year in enumerate(test_years):
        start, end = year_bounds(year)
        if not np.any((series.time >= start) & (series.time < end)):
            raise DataError(f"no bars in the test year {year}")
        model = train_direction(series, start, **settings)
        p, t = predict_window(series, model, start, end)
        probs.append(p)
        truth.append(t)
        saved = model.save(out / "models" / f"lstm-{year}", {"oos_year": year})
        text = window_config(
            "lstm-oos",
            Path(data).resolve(),
            series.symbol,
            year,
            saved,
            out / "journals",
            enter=enter,
            exit_below=exit_below,
            rule=rule,
            fee_bps=fee_bps,
            slippage_bps=slippage_bps,
            warmup_bars=warmup_bars,
            cash=cash,
        )
        path = out / "configs" / f"oos-{year}.toml"
        path.write_text(text, encoding="utf-8")
        ev.configs.append(str(path))
        result = run_session(parse_config(tomllib.loads(text), path.parent), journal=True)
        ev.windows += _window_results(year, result)
        if progress is not None:
            progress(i + 1, len(test_years))
    ev.direction = direction_metrics(np.concatenate(probs), np.concatenate(truth))
    ev.pooled = _pooled(ev.windows)
    return ev
