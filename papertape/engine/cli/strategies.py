"""``papertape strategies``: list registered strategies, sizers and shields with parameters."""

from __future__ import annotations

import argparse
import json
from typing import Any

from rich.console import Console
from rich.table import Table

from papertape.engine.cli.options import add_strategy_dir_option
from papertape.engine.registry import build_catalog, make_plugin_manager

__all__ = ["register", "summary"]


def summary(plugin: type) -> str:
    """First line of a plugin class's own docstring, or ``""`` when it has none.

    ``__doc__`` is not inherited by subclasses, so a drop-in strategy without a docstring
    (the README's ``Breakout`` example) has ``None`` there.
    """
    lines = (plugin.__doc__ or "").strip().splitlines()
    return lines[0].strip() if lines else ""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``strategies`` subcommand."""
    p = sub.add_parser(
        "strategies",
        help="list strategies, sizers and shields with their parameters",
        description="List every strategy (built-in, drop-in file or entry point), sizer and "
        "shield that a run can name, with parameter defaults.",
    )
    add_strategy_dir_option(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=_list)


def _list(args: argparse.Namespace) -> int:
    pm, broken = make_plugin_manager(args.strategy_dir)
    cat = build_catalog(pm, broken)
    groups: dict[str, dict[str, Any]] = {
        "strategy": cat.strategies,
        "sizer": cat.sizers,
        "shield": cat.shields,
    }
    if args.json:
        print(
            json.dumps(
                {
                    kind: {
                        n: {"params": c.defaults, "doc": summary(c)}
                        for n, c in sorted(table.items())
                    }
                    for kind, table in groups.items()
                }
                | {"broken": broken},
                indent=2,
            )
        )
        return 0
    table = Table(title="papertape plugins", title_justify="left")
    for col in ("kind", "name", "parameters (defaults)", "summary"):
        table.add_column(col)
    for kind, entries in groups.items():
        for name, cls in sorted(entries.items()):
            params = ", ".join(f"{k}={v!r}" for k, v in cls.defaults.items())
            table.add_row(kind, name, params, summary(cls))
    console = Console()
    console.print(table)
    for path, why in broken:
        console.print(f"[red]could not load {path}:[/] {why}")
    return 0
