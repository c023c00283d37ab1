"""``papertape regime label`` and ``papertape evaluate regime``: use and judge regime models.

The ML stack is imported only when a command runs.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from papertape.engine.cli.options import key_value
from papertape.engine.errors import ConfigError

if TYPE_CHECKING:
    from papertape.engine.feeds.base import BarSeries

__all__ = ["register"]

LABEL_HELP = """\
Print the forward-filtered regime of every bar of a data file: each bar's label uses only that
bar and the bars before it (what the annotator sees during a backtest). Bars in the warm-up
(features and windows still filling) have no regime.

  papertape regime label --model models/hmm-spx --data sp500_daily.csv
  papertape regime label --model models/hmm-spx/v2 --data sp500_daily.csv --json

With --json: {"model": ..., "labels": [{"timestamp", "regime", "probs", "confidence"}, ...]}.
"""

EVALUATE_HELP = """\
Walk-forward evaluation of regime detectors, out of sample: refit each detector on an expanding
window (every --refit-every years from --first-test-year), label the next block forward only,
then report regime durations, turnover, detection lag around the 2000-2002 and 2008 stress
periods, per-regime return/volatility/Sharpe, and the effect on an SMA crossover and on
buy-and-hold, unfiltered vs filtered (flat in the volatile regime) vs sized (exposure x a
multiplier per regime): Sharpe, max drawdown, CAGR.

  papertape evaluate regime                                  # all four detectors on sp500_daily.csv
  papertape evaluate regime --models hmm,heuristic --markdown report.md
  papertape evaluate regime --first-test-year 2005 --refit-every 2 --json
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``regime`` and ``evaluate`` command groups."""
    regime = sub.add_parser(
        "regime",
        help="label bars with a trained regime model",
        description="Use trained regime models.",
    )
    rsub = regime.add_subparsers(dest="regime_command", metavar="ACTION", required=True)
    lp = rsub.add_parser(
        "label",
        help="forward-filtered regime of every bar",
        description=LABEL_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    lp.add_argument("--model", required=True, metavar="DIR", help="model folder or version folder")
    lp.add_argument("--data", required=True, metavar="FILE", help="CSV/Parquet OHLCV file")
    lp.add_argument("--symbol", metavar="NAME", help="symbol name (default: the file name)")
    lp.add_argument("--json", action="store_true", help="print one JSON object")
    lp.set_defaults(handler=_label)

    ev = sub.add_parser(
        "evaluate", help="evaluate models out of sample", description="Out-of-sample evaluations."
    )
    esub = ev.add_subparsers(dest="evaluate_command", metavar="MODEL_FAMILY", required=True)
    from papertape.engine.cli.rl import register_evaluate

    register_evaluate(esub)
    ep = esub.add_parser(
        "regime",
        help="walk-forward evaluation of regime detectors",
        description=EVALUATE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ep.add_argument(
        "--data",
        default="sp500_daily.csv",
        metavar="FILE",
        help="OHLCV file (default: the shipped sp500_daily.csv)",
    )
    ep.add_argument(
        "--models",
        default="heuristic,hmm,vae,transformer",
        metavar="A,B,..",
        help="detectors to evaluate (default: all four)",
    )
    ep.add_argument(
        "--first-test-year",
        type=int,
        default=2000,
        metavar="YEAR",
        help="first out-of-sample year (default 2000; training starts with the data)",
    )
    ep.add_argument(
        "--refit-every",
        type=int,
        default=1,
        metavar="YEARS",
        help="refit frequency in years (default 1)",
    )
    ep.add_argument(
        "--fast", type=int, default=10, help="fast SMA of the base strategy (default 10)"
    )
    ep.add_argument(
        "--slow", type=int, default=30, help="slow SMA of the base strategy (default 30)"
    )
    ep.add_argument(
        "--cost-bps",
        type=float,
        default=5.0,
        help="cost per unit of exposure traded, in bp (default 5)",
    )
    ep.add_argument("--seed", type=int, default=7, help="seed of every fit (default 7)")
    ep.add_argument(
        "--param",
        action="append",
        type=key_value,
        default=[],
        metavar="KIND.K=V",
        help="detector hyperparameter, e.g. transformer.epochs=10 (repeatable)",
    )
    ep.add_argument("--markdown", metavar="FILE", help="also write the tables as Markdown")
    ep.add_argument("--json", action="store_true", help="print one JSON object")
    ep.set_defaults(handler=_evaluate)


def _load(data: str, symbol: str | None) -> BarSeries:
    from papertape.engine.config import resolve_data_path
    from papertape.engine.feeds.loader import load_bars

    return load_bars(resolve_data_path(data), symbol=symbol)


def _label(args: argparse.Namespace) -> int:
    from papertape.ml.regime.model import iso_time, load_regime_model

    model = load_regime_model(args.model)
    series = _load(args.data, args.symbol)
    table = model.label_series(series)
    if args.json:
        labels = [
            {
                "timestamp": iso_time(t),
                "regime": r.regime if r else None,
                "probs": r.probs_by_name() if r else None,
                "confidence": r.confidence if r else None,
            }
            for t, r in table.readings()
        ]
        print(
            json.dumps(
                {
                    "model": str(model.path),
                    "kind": model.kind,
                    "symbol": series.symbol,
                    "labels": labels,
                }
            )
        )
        return 0
    console = Console(highlight=False)
    lines = []
    counts = dict.fromkeys(model.names, 0)
    for t, r in table.readings():
        if r is None:
            lines.append(f"{iso_time(t)[:19]}  {'-':<10}")
            continue
        counts[r.regime] += 1
        probs = "  ".join(f"{n}={p:.3f}" for n, p in r.probs_by_name().items())
        lines.append(f"{iso_time(t)[:19]}  {r.regime:<10}  conf={r.confidence:.3f}  {probs}")
    console.print("\n".join(lines), soft_wrap=True)
    labelled = sum(counts.values()) or 1
    console.print(
        f"[bold]{model.kind}[/] {model.path}: {len(lines)} bars, "
        + ", ".join(f"{n} {100 * c / labelled:.1f}%" for n, c in counts.items())
    )
    return 0


def _hyperparameters(params: list[tuple[str, str]], kinds: list[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {k: {} for k in kinds}
    for key, value in params:
        kind, _, name = key.partition(".")
        if not name or kind not in out:
            raise ConfigError(
                "--param", f"{key}={value}", f"expected KIND.NAME=VALUE with KIND in {kinds}"
            )
        out[kind][name] = value
    return out


def _evaluate(args: argparse.Namespace) -> int:
    from papertape.ml.regime.evaluate import evaluate
    from papertape.ml.regime.model import DETECTOR_KINDS
    from papertape.ml.regime.report import markdown_report, print_report
    from papertape.ml.regime.walkforward import walk_forward

    kinds = [k.strip() for k in args.models.split(",") if k.strip()]
    bad = [k for k in kinds if k not in DETECTOR_KINDS]
    if bad or not kinds:
        raise ConfigError("--models", args.models, f"choose from {sorted(DETECTOR_KINDS)}")
    hyper = _hyperparameters(args.param, kinds)
    series = _load(args.data, None)
    err = Console(stderr=True)
    walks = []
    for kind in kinds:
        start = time.perf_counter()
        with err.status(f"walk-forward {kind} ...") as status:

            def tick(done: int, total: int, kind: str = kind, status: Any = status) -> None:
                status.update(f"walk-forward {kind}: {done}/{total} refits")

            walks.append(
                walk_forward(
                    series,
                    kind,
                    first_test_year=args.first_test_year,
                    refit_years=args.refit_every,
                    hyperparameters=hyper[kind],
                    seed=args.seed,
                    on_refit=tick,
                )
            )
        err.print(f"{kind}: {len(walks[-1].refits)} refits in {time.perf_counter() - start:.1f} s")
    report = evaluate(
        series,
        walks,
        fast=args.fast,
        slow=args.slow,
        cost_bps=args.cost_bps,
        settings={
            "first_test_year": args.first_test_year,
            "refit_years": args.refit_every,
            "seed": args.seed,
            "hyperparameters": hyper,
        },
    )
    if args.markdown:
        Path(args.markdown).write_text(markdown_report(report), encoding="utf-8")
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print_report(report, Console())
    return 0
