"""``papertape generate``: an LLM writes a rule strategy; papertape validates, backtests, saves."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from pathlib import Path

from rich.console import Console
from rich.table import Table

from papertape.engine.errors import ConfigError

__all__ = ["register"]

HELP = """\
Ask a language model for a rule-based strategy on a data file, as JSON: named indicators,
entry and exit conditions, a stop, a target and a size. The answer is validated with a safe
expression parser (no eval, no code execution), written as a drop-in strategy file and
backtested through the normal plugin discovery. Only a strategy that validates, runs without
errors and trades is saved; every rejected answer is reported with its reason, and shown to
the model in the next attempt. Examples:

  papertape generate --data sp500_daily.csv --provider local
  papertape generate --data sp500_daily.csv --provider ollama --model qwen2.5:7b --attempts 5
  ANTHROPIC_API_KEY=... papertape generate --data btc.csv --provider anthropic --json

The saved file lands in --out (default: ./strategies, discovered automatically); run it with
`papertape backtest --data FILE --strategy gen_<name>`.
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``generate`` subcommand."""
    p = sub.add_parser(
        "generate",
        help="let an LLM write a rule strategy; validate, backtest and save it",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--data", required=True, metavar="FILE", help="CSV/Parquet OHLCV file")
    p.add_argument("--symbol", metavar="NAME", help="symbol name (default: the file name)")
    p.add_argument(
        "--provider",
        choices=["local", "ollama", "anthropic"],
        default="local",
        help="LLM backend (default: local, the embedded llama.cpp model)",
    )
    p.add_argument("--model", default="", help="model name or GGUF path (default: per backend)")
    p.add_argument("--attempts", type=int, default=3, help="answers to try (default 3)")
    p.add_argument(
        "--out",
        default="strategies",
        metavar="DIR",
        help="folder for the saved strategy (default: ./strategies)",
    )
    p.add_argument("--temperature", type=float, default=0.2, help="sampling temperature")
    p.add_argument("--seed", type=int, default=0, help="sampling seed (where supported)")
    p.add_argument("--max-tokens", type=int, default=700, help="output token limit per answer")
    p.add_argument("--timeout", type=float, default=180.0, help="seconds per answer")
    p.add_argument(
        "--min-trades",
        type=int,
        default=1,
        help="completed trades the backtest must show (default 1)",
    )
    p.add_argument(
        "--cache-dir",
        default="",
        metavar="DIR",
        help="LLM cache folder ('' = $PAPERTAPE_LLM_CACHE or journals/llm-cache)",
    )
    p.add_argument("--no-cache", action="store_true", help="always ask the model")
    p.add_argument("--host", default="", help="Ollama server URL (default: $OLLAMA_HOST)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=_generate)


def _generate(args: argparse.Namespace) -> int:
    from papertape.plugins.llm.cache import ResponseCache
    from papertape.plugins.llm.generate import generate_strategy
    from papertape.plugins.llm.providers import make_provider
    from papertape.plugins.llm.trader import CACHE_ENV

    if args.provider == "anthropic" and not os.environ.get("ANTHROPIC_API_KEY"):
        raise ConfigError("--provider", "anthropic", "set ANTHROPIC_API_KEY in the environment")
    provider = make_provider(args.provider, args.model, timeout=args.timeout, host=args.host)
    cache = None
    if not args.no_cache:
        folder = args.cache_dir or os.environ.get(CACHE_ENV) or str(Path("journals") / "llm-cache")
        cache = ResponseCache(folder)
    result = asyncio.run(
        generate_strategy(
            provider,
            args.data,
            out_dir=args.out,
            symbol=args.symbol,
            attempts=args.attempts,
            temperature=args.temperature,
            seed=args.seed,
            max_tokens=args.max_tokens,
            timeout=args.timeout,
            min_trades=args.min_trades,
            cache=cache,
        )
    )
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
        return 0 if result.saved else 1
    console = Console()
    title = f"papertape generate · {args.provider}/{provider.model}"
    table = Table(title=title, title_justify="left")
    for col in ("attempt", "result", "detail", "trades", "return"):
        table.add_column(col)
    for a in result.attempts:
        m = a.metrics or {}
        ret = m.get("total_return")
        table.add_row(
            str(a.number),
            a.code,
            a.detail,
            str(m.get("trades", "—")),
            f"{ret:+.2%}" if isinstance(ret, float) else "—",
        )
    console.print(table)
    if result.saved:
        console.print(f"saved [bold]{result.name}[/] to {result.saved}")
        return 0
    console.print("[yellow]no answer passed; nothing was saved[/]")
    return 1
