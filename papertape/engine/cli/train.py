"""``papertape train regime`` and ``papertape models list``: train, version and list models.

The ML stack (torch, hmmlearn, scikit-learn) is imported only when a command runs, so the rest
of the CLI works without ``papertape[ml]``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from papertape.engine.cli.options import key_value
from papertape.engine.errors import ConfigError

__all__ = ["register", "training_progress"]

TRAIN_HELP = """\
Train a regime detector on a bar file and save it as a new version in the model registry.

Detectors: heuristic (volatility percentiles + trend), hmm (Gaussian HMM, forward filtered),
vae (VAE latents + KMeans), transformer (sequence classifier taught by an HMM or VAE).
Features are fitted on the training range only (--train-end, inclusive). Seeds are fixed, so
the same data and options give the same model. Each run writes DIR/vN/ with metadata.json
(features, data range and hash, hyperparameters, metrics, version, created-at) and weights.

  papertape train regime --model hmm --data sp500_daily.csv --train-end 2014-12-31 \
      --out models/hmm-spx
  papertape train regime configs/train-transformer.toml --json
  papertape train regime --model vae --data my.csv --param epochs=100 --param latent_dim=3
"""

MODELS_HELP = """\
List every trained model version under a registry folder (default: models/).

  papertape models list
  papertape models list --root /data/models --json
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``train`` and ``models`` command groups."""
    train = sub.add_parser(
        "train",
        help="train ML models (regime detectors)",
        description="Train ML models. See `papertape train regime --help`.",
    )
    tsub = train.add_subparsers(dest="train_command", metavar="MODEL_FAMILY", required=True)
    p = tsub.add_parser(
        "regime",
        help="train a regime detector",
        description=TRAIN_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "config_file", nargs="?", metavar="CONFIG", help="training config (same as --config)"
    )
    p.add_argument("--config", metavar="TOML", help="training config (configs/train-*.toml)")
    p.add_argument(
        "--model", choices=["heuristic", "hmm", "vae", "transformer"], help="detector kind"
    )
    p.add_argument("--data", metavar="FILE", help="CSV/Parquet OHLCV file")
    p.add_argument("--symbol", metavar="NAME", help="symbol name (default: the file name)")
    p.add_argument(
        "--train-end", metavar="DATE", help="last training date, inclusive (default: all)"
    )
    p.add_argument("--out", metavar="DIR", help="model folder (default: models/<model>-<symbol>)")
    p.add_argument("--seed", type=int, help="seed of every random generator (default 7)")
    p.add_argument("--regimes", type=int, choices=[2, 3, 4], help="number of regimes (default 3)")
    p.add_argument(
        "--features",
        metavar="A,B,..",
        help="feature list (default log_return,volatility,momentum; extras: "
        "atr_pct,trend,drawdown)",
    )
    p.add_argument(
        "--param",
        action="append",
        type=key_value,
        default=[],
        metavar="K=V",
        help="detector hyperparameter, e.g. epochs=40 (repeatable)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object (the metadata)")
    p.set_defaults(handler=_train)
    from papertape.engine.cli.rl import register_train

    register_train(tsub)

    models = sub.add_parser(
        "models", help="list trained models", description="Inspect the model registry."
    )
    msub = models.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    lp = msub.add_parser(
        "list",
        help="list model versions",
        description=MODELS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    lp.add_argument(
        "--root", default="models", metavar="DIR", help="registry folder (default: models)"
    )
    lp.add_argument("--json", action="store_true", help="print JSON")
    lp.set_defaults(handler=_list)


@contextmanager
def training_progress(
    enabled: bool, first_stage: str | None = None
) -> Iterator[Callable[[str, int, int], None] | None]:
    """A rich progress display on stderr, one bar per stage; yields its ``(stage, done, total)``.

    A stage's bar appears at its first report; ``first_stage`` shows one from the start (with
    no total yet), for a stage whose first report may be long in coming. Disabled (``--json``),
    it yields None.
    """
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    ) as bar:
        tasks: dict[str, Any] = {}
        if first_stage is not None:
            tasks[first_stage] = bar.add_task(first_stage, total=None)

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield report


def _train(args: argparse.Namespace) -> int:
    from papertape.engine.config import resolve_data_path
    from papertape.engine.feeds.loader import load_bars
    from papertape.ml.regime.model import train_regime_model
    from papertape.ml.regime.train_config import load_train_config, parse_train_config

    if args.config_file and args.config and args.config_file != args.config:
        raise ConfigError(
            "config", [args.config_file, args.config], "give the config once (CONFIG or --config)"
        )
    path = args.config or args.config_file
    cfg = load_train_config(path) if path else parse_train_config({}, Path.cwd())
    t = cfg.train
    kind = args.model or t.model
    data = args.data or t.data
    if kind is None:
        raise ConfigError("--model", None, "give a detector (heuristic, hmm, vae, transformer)")
    if data is None:
        raise ConfigError("--data", None, "give a data file")
    spec = cfg.feature_spec()
    if args.features:
        from dataclasses import replace

        spec = replace(spec, names=tuple(n.strip() for n in args.features.split(",") if n.strip()))
    path = resolve_data_path(data, cfg.base_dir if args.data is None else Path.cwd())
    series = load_bars(path, symbol=args.symbol or t.symbol)
    out = args.out or t.out or f"models/{kind}-{series.symbol.lower()}"
    hyper = {**cfg.hyperparameters, **dict(args.param)}
    with training_progress(not args.json) as progress:
        model = train_regime_model(
            series,
            kind,
            train_end=args.train_end or t.train_end,
            spec=spec,
            n_regimes=args.regimes or t.regimes,
            hyperparameters=hyper,
            seed=t.seed if args.seed is None else args.seed,
            progress=progress,
            source=path,
        )
        saved = model.save(out)
    meta = model.metadata
    if args.json:
        print(json.dumps({"path": str(saved), **meta}, indent=2, sort_keys=True))
        return 0
    console = Console()
    table = Table(title=f"trained {kind} → {saved}", title_justify="left", show_header=False)
    table.add_column("key")
    table.add_column("value")
    d = meta["data"]
    table.add_row(
        "model", f"{meta['name']} v{meta['version']} ({kind}, {meta['n_regimes']} regimes)"
    )
    table.add_row("data", f"{d['symbol']} {d['first'][:10]} – {d['last'][:10]} ({d['rows']} bars)")
    table.add_row("data sha256", str(d["file_sha256"]))
    table.add_row("features", ", ".join(meta["features"]["names"]))
    table.add_row("hyperparameters", json.dumps(meta["hyperparameters"]))
    table.add_row("training seconds", str(meta["training_seconds"]))
    for k, v in meta["metrics"].items():
        if k != "teacher":
            table.add_row(f"metric: {k}", json.dumps(v) if not isinstance(v, str) else v)
    console.print(table)
    return 0


def _list(args: argparse.Namespace) -> int:
    from papertape.ml.registry import list_models

    entries = list_models(args.root)
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "name": e.name,
                        "version": e.version,
                        "family": e.family,
                        "kind": e.kind,
                        "path": str(e.path),
                        "created_at": e.created_at,
                        "data_first": e.data_first,
                        "data_last": e.data_last,
                        "features": e.metadata.get("features", {}).get("names"),
                        "metrics": e.metadata.get("metrics", {}),
                    }
                    for e in entries
                ],
                indent=2,
                sort_keys=True,
            )
        )
        return 0
    console = Console()
    if not entries:
        console.print(f"no models under {args.root}/ (train one with `papertape train regime`)")
        return 0
    table = Table(title=f"models in {args.root}/", title_justify="left")
    for col in ("name", "version", "kind", "trained on", "created (UTC)", "path"):
        table.add_column(col)
    for e in entries:
        table.add_row(
            e.name,
            f"v{e.version}",
            f"{e.family}/{e.kind}",
            f"{e.data_first[:10]} – {e.data_last[:10]}",
            e.created_at.replace("+00:00", ""),
            str(e.path),
        )
    console.print(table)
    return 0
