"""``papertape train sizer`` / ``evaluate sizer`` (RL position sizer) and ``train lstm``.

stable-baselines3, gymnasium and torch are imported only when a command runs.
"""

from __future__ import annotations

import argparse
import json
from functools import partial
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from papertape.engine.cli.lstm import add_model_args, model_settings, register_evaluate_lstm
from papertape.engine.cli.options import key_value, year_list
from papertape.engine.cli.train import training_progress

__all__ = ["register_evaluate", "register_train"]

TRAIN_HELP = """\
Train a PPO policy that chooses the position size (a fraction of equity, 0..max) for the
signals of a fixed strategy, on the engine's own replay (its fills, fees, slippage, cash
account, next-bar execution). Saved as a new version under --out with its metadata.

example:
  papertape train sizer --strategy sma_cross --param fast=10 --param slow=30 \\
      --data sp500_daily.csv --train-end 2015-12-31 --timesteps 20000 --seeds 1 \\
      --out models/rl-sizer-spx
then size any strategy with it in a config: sizer = { name = "rl", params = { model = "..." } }
"""

EVALUATE_HELP = """\
Walk-forward, out-of-sample: for each test year, train a policy per seed on all earlier bars,
then run RL and the fixed rules (fixed fraction 0.95, vol target 15%, half Kelly) on the year
with the same signals and costs. Prints Sharpe, max drawdown, CAGR, turnover and a paired
Sharpe test of each RL seed against the best fixed rule.

example:
  papertape evaluate sizer --data sp500_daily.csv --strategy sma_cross --test-years 2016-2019 \\
      --timesteps 5000 --seeds 1,2,3
"""

LSTM_HELP = """\
Train an LSTM that gives P(close N bars ahead > close now) from causal OHLCV features. First a
walk-forward evaluation (train before each test year, predict the year: accuracy, AUC, Brier),
then a final fit on the bars up to --train-end, saved in the model registry. Trade it with the
`lstm_direction` strategy (params: model, enter, exit). Its trading metrics out of sample,
against buy-and-hold and an SMA crossover on the same windows: `papertape evaluate lstm`.

example:
  papertape train lstm --data sp500_daily.csv --test-years 2012-2016 --train-end 2016-12-31
"""


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data",
        default="sp500_daily.csv",
        metavar="FILE",
        help="OHLCV file (default: the shipped sp500_daily.csv)",
    )
    p.add_argument("--symbol", metavar="NAME", help="symbol name (default: the file name)")
    p.add_argument("--strategy", default="sma_cross", metavar="NAME", help="signal strategy")
    p.add_argument(
        "--param",
        action="append",
        type=key_value,
        default=[],
        metavar="K=V",
        help="strategy parameter, e.g. fast=10 (repeatable)",
    )
    p.add_argument("--fee-bps", type=float, default=1.0, help="taker fee, bps (default 1)")
    p.add_argument("--slippage-bps", type=float, default=2.0, help="slippage, bps (default 2)")
    p.add_argument("--cash", type=float, default=100_000.0, help="initial cash")
    p.add_argument("--timesteps", type=int, default=20_000, help="PPO timesteps (decisions)")
    p.add_argument("--max-fraction", type=float, default=1.0, help="largest size (of equity)")
    p.add_argument("--drawdown-penalty", type=float, default=0.5, help="reward's drawdown penalty")
    p.add_argument("--json", action="store_true", help="print JSON")


def register_train(tsub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``train sizer`` to the ``train`` group."""
    p = tsub.add_parser(
        "sizer",
        help="train an RL (PPO) position sizer",
        description=TRAIN_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(p)
    p.add_argument("--train-end", metavar="DATE", help="last training date, inclusive")
    p.add_argument("--seeds", type=int, default=1, help="train seeds 1..K, one version each")
    p.add_argument("--out", metavar="DIR", help="model folder (default: models/rl-sizer-<sym>)")
    p.set_defaults(handler=_train)

    lp = tsub.add_parser(
        "lstm",
        help="train an LSTM direction model (walk-forward metrics, then a final fit)",
        description=LSTM_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_model_args(lp)
    lp.add_argument("--train-end", metavar="DATE", help="last date of the final fit, inclusive")
    lp.add_argument("--out", metavar="DIR", help="model folder (default: models/lstm-<sym>)")
    lp.set_defaults(handler=_train_lstm)


def register_evaluate(esub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``evaluate sizer`` and ``evaluate lstm`` to the ``evaluate`` group."""
    p = esub.add_parser(
        "sizer",
        help="walk-forward comparison of the RL sizer with fixed sizing rules",
        description=EVALUATE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(p)
    p.add_argument("--test-years", default="2016-2019", metavar="Y1-Y2", help="test years")
    p.add_argument("--seeds", default="1,2,3", metavar="A,B,..", help="PPO seeds")
    p.add_argument("--models-dir", metavar="DIR", help="keep the trained policies here")
    p.set_defaults(handler=_evaluate)
    register_evaluate_lstm(esub)


def _setup(args: argparse.Namespace) -> Any:
    from papertape.engine.config import resolve_data_path
    from papertape.engine.feeds.loader import load_bars
    from papertape.ml.rl.observation import RewardSpec
    from papertape.ml.rl.setup import SizingSetup
    from papertape.ml.rl.training import PPOSettings

    series = load_bars(resolve_data_path(args.data, Path.cwd()), symbol=args.symbol)
    setup = SizingSetup(
        series, args.strategy, dict(args.param), args.fee_bps, args.slippage_bps, args.cash
    )
    ppo = PPOSettings(timesteps=args.timesteps, max_fraction=args.max_fraction)
    return setup, ppo, RewardSpec(drawdown_penalty=args.drawdown_penalty)


def _train(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from papertape.ml.rl.setup import DAY_NS, date_ns, window
    from papertape.ml.rl.training import train_sizer

    setup, ppo, reward = _setup(args)
    if args.train_end:
        setup = replace(setup, series=window(setup.series, None, date_ns(args.train_end) + DAY_NS))
    out = args.out or f"models/rl-sizer-{setup.series.symbol.lower()}"
    saved = []
    for seed in range(1, args.seeds + 1):
        stage = f"PPO seed {seed}"
        with training_progress(not args.json, stage) as report:
            progress = None if report is None else partial(report, stage)
            saved.append(
                train_sizer(setup, out, seed=seed, ppo=ppo, reward=reward, progress=progress)
            )
    if args.json:
        print(json.dumps([{"path": str(s.path), **s.metadata} for s in saved], indent=2))
        return 0
    table = Table(title=f"RL sizer → {out}", title_justify="left")
    for col in ("version", "seed", "data", "decisions", "train return", "seconds"):
        table.add_column(col)
    for s in saved:
        m, d = s.metadata, s.metadata["data"]
        tr = m["metrics"]["train"]
        table.add_row(
            s.path.name,
            str(m["seed"]),
            f"{d['symbol']} {str(d['first'])[:10]} – {str(d['last'])[:10]}",
            str(int(tr["decisions"])),
            f"{tr['return']:+.2%}",
            str(m["training_seconds"]),
        )
    Console().print(table)
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from papertape.ml.rl.evaluation import compare_sizers

    setup, ppo, reward = _setup(args)
    seeds = [int(s) for s in str(args.seeds).split(",") if s.strip()]
    with training_progress(not args.json, "walk-forward") as progress:
        result = compare_sizers(
            setup.series,
            setup,
            year_list(args.test_years),
            seeds,
            ppo,
            reward,
            models_dir=args.models_dir,
            progress=progress,
        )
    rows = result.rows()
    if args.json:
        print(json.dumps({"best_fixed": result.best_fixed, "rows": rows}, indent=2))
        return 0
    years = result.test_years
    table = Table(
        title=f"out of sample {years[0]}–{years[-1]}, {args.strategy}; best fixed rule: "
        f"{result.best_fixed}",
        title_justify="left",
    )
    for col in ("sizer", "Sharpe", "max DD", "CAGR", "turnover/yr", "ΔSharpe vs best", "p"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(
            r["sizer"],
            f"{r['sharpe']:.2f}",
            f"{r['max_drawdown']:.1%}",
            f"{r['cagr']:+.1%}",
            f"{r['turnover']:.1f}",
            "" if r["sharpe_minus_best_fixed"] is None else f"{r['sharpe_minus_best_fixed']:+.2f}",
            "" if r["p_value"] is None else f"{r['p_value']:.3f}",
        )
    Console().print(table)
    return 0


def _train_lstm(args: argparse.Namespace) -> int:
    from papertape.engine.config import resolve_data_path
    from papertape.engine.feeds.loader import load_bars
    from papertape.ml.lstm.model import train_direction, walk_forward
    from papertape.ml.rl.setup import DAY_NS, date_ns

    series = load_bars(resolve_data_path(args.data, Path.cwd()), symbol=args.symbol)
    settings = model_settings(args)
    years = year_list(args.test_years)
    oos = walk_forward(series, years, **settings)
    end = date_ns(args.train_end) + DAY_NS if args.train_end else None
    model = train_direction(series, end, **settings)
    out = args.out or f"models/lstm-{series.symbol.lower()}"
    saved = model.save(out, {"oos": {"test_years": years, **oos}, "source": series.source})
    if args.json:
        print(json.dumps({"path": str(saved), "oos": oos, **model.metadata}, indent=2))
        return 0
    table = Table(title=f"LSTM direction → {saved}", title_justify="left", show_header=False)
    table.add_column("key")
    table.add_column("value")
    table.add_row("out of sample", f"{years[0]}–{years[-1]}, {int(oos['n'])} bars")
    for k in ("accuracy", "auc", "brier", "base_rate_up"):
        table.add_row(k, f"{oos[k]:.4f}")
    table.add_row("final fit up to", str(model.metadata["train_last"])[:10])
    Console().print(table)
    return 0
