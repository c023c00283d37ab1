"""``papertape evaluate lstm``: the LSTM direction strategy traded out of sample, per year.

torch is imported only when the command runs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

__all__ = ["add_model_args", "model_settings", "register_evaluate_lstm"]

HELP = """\
Walk forward over the test years: for each year, train the LSTM on every earlier bar, write a
run config for the year (LSTM strategy, buy-and-hold and an SMA 10/30 crossover, same data,
costs and sizer, warmed up on the bars before the year) and run it through the engine with
its journal, as `papertape run OUT/configs/oos-YEAR.toml` would. Prints the pooled trading
metrics (Sharpe, max drawdown, CAGR, turnover, trades) with the paired Sharpe test of the LSTM
against each baseline, and the direction metrics (accuracy, AUC, Brier) of the same models.

example:
  papertape evaluate lstm --data sp500_daily.csv --test-years 2012-2016 --out lstm-oos
"""

NAMES = {"lstm": "LSTM (lstm_direction)", "buy_and_hold": "buy and hold", "rule": "SMA 10/30"}


def add_model_args(p: argparse.ArgumentParser) -> None:
    """The data and model options ``train lstm`` and ``evaluate lstm`` share."""
    p.add_argument("--data", default="sp500_daily.csv", metavar="FILE", help="OHLCV file")
    p.add_argument("--symbol", metavar="NAME", help="symbol name (default: the file name)")
    p.add_argument("--test-years", default="2012-2016", metavar="Y1-Y2", help="OOS years")
    p.add_argument("--lookback", type=int, default=30, help="bars per input sequence")
    p.add_argument("--horizon", type=int, default=5, help="predict the move N bars ahead")
    p.add_argument("--hidden", type=int, default=16, help="LSTM units")
    p.add_argument("--epochs", type=int, default=5, help="training epochs")
    p.add_argument("--seed", type=int, default=7, help="seed of torch and numpy")
    p.add_argument("--json", action="store_true", help="print JSON")


def model_settings(args: argparse.Namespace) -> dict[str, int]:
    """The LSTM's settings from the options :func:`add_model_args` declared."""
    return {
        "lookback": args.lookback,
        "horizon": args.horizon,
        "hidden": args.hidden,
        "epochs": args.epochs,
        "seed": args.seed,
    }


def register_evaluate_lstm(esub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``evaluate lstm`` to the ``evaluate`` group."""
    p = esub.add_parser(
        "lstm",
        help="walk-forward trading metrics of the LSTM strategy against baselines",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_model_args(p)
    p.add_argument("--out", default="lstm-oos", metavar="DIR", help="models, configs, journals")
    p.add_argument("--enter", type=float, default=0.55, help="long when P(up) >= this")
    p.add_argument("--exit", type=float, default=0.5, help="flat when P(up) < this")
    p.add_argument("--fee-bps", type=float, default=1.0, help="maker and taker fee, bps")
    p.add_argument("--slippage-bps", type=float, default=2.0, help="slippage, bps")
    p.add_argument("--warmup-bars", type=int, default=60, help="bars before each year")
    p.set_defaults(handler=_evaluate)


def _evaluate(args: argparse.Namespace) -> int:
    from papertape.engine.cli.options import year_list
    from papertape.engine.config import resolve_data_path
    from papertape.engine.feeds.loader import load_bars
    from papertape.ml.lstm.evaluation import evaluate_lstm

    path = resolve_data_path(args.data, Path.cwd())
    series = load_bars(path, symbol=args.symbol)
    settings = model_settings(args)
    years = year_list(args.test_years)
    console = Console(stderr=True)
    with console.status("walk-forward: training and trading each year") as status:

        def progress(done: int, total: int) -> None:
            status.update(f"walk-forward: {done}/{total} years done")

        ev = evaluate_lstm(
            series,
            path,
            years,
            Path(args.out),
            settings=settings,
            enter=args.enter,
            exit_below=args.exit,
            fee_bps=args.fee_bps,
            slippage_bps=args.slippage_bps,
            warmup_bars=args.warmup_bars,
            progress=None if args.json else progress,
        )
    if args.json:
        print(json.dumps(ev.as_dict(), indent=2))
        return 0
    d = ev.direction
    table = Table(
        title=f"out of sample {years[0]}–{years[-1]}, {series.symbol}: {int(d['n'])} bars; "
        f"accuracy {d['accuracy']:.3f}, AUC {d['auc']:.3f}, Brier {d['brier']:.3f} "
        f"(base rate up {d['base_rate_up']:.3f})",
        title_justify="left",
    )
    for col in ("contender", "Sharpe", "max DD", "CAGR", "turnover/yr", "trades", "in market"):
        table.add_column(col, justify="right")
    table.add_column("ΔSharpe LSTM − this [95 %]", justify="right")
    table.add_column("p", justify="right")
    for r in ev.pooled:
        diff = ""
        if "ci" in r:
            lo, hi = r["ci"]
            diff = f"{r['lstm_minus_this_sharpe']:+.2f} [{lo:+.2f}, {hi:+.2f}]"
        table.add_row(
            NAMES.get(r["contender"], r["contender"]),
            f"{r['sharpe']:.2f}",
            f"{r['max_drawdown']:.1%}",
            f"{r['cagr']:+.1%}",
            f"{r['turnover']:.1f}",
            str(r["trades"]),
            f"{r['exposure']:.0%}",
            diff,
            "" if "p_value" not in r else f"{r['p_value']:.3f}",
        )
    Console().print(table)
    Console().print(f"window configs (rerun one with `papertape run`): {args.out}/configs/")
    return 0
