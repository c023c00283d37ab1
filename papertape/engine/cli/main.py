"""Entry point of the ``papertape`` console script.

User errors (:class:`~engine.errors.PapertapeError`) print one clear line and exit with 2;
anything else is a bug and keeps its traceback (exit 1).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape

from papertape.engine.cli import (
    arena,
    audit,
    backtest,
    bench,
    data,
    feed,
    generate,
    html_report,
    journal,
    monitor,
    regime,
    strategies,
    sweep,
    train,
)
from papertape.engine.errors import PapertapeError, RunInterrupted

__all__ = ["build_parser", "main"]

COMMAND_GROUPS = (
    backtest,
    audit,
    bench,
    arena,
    data,
    feed,
    generate,
    journal,
    html_report,
    monitor,
    strategies,
    sweep,
    train,
    regime,
)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="papertape",
        description=(
            "papertape: a plugin-based paper-trading engine. Replay history through strategies, "
            "fill their orders with fees and slippage, guard them with risk shields and journal "
            "every decision."
        ),
        epilog="Run `papertape COMMAND --help` for the options of each command.",
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more logging (-vv: debug)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in COMMAND_GROUPS:
        group.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    err = Console(stderr=True)
    try:
        code: int = args.handler(args)
    except RunInterrupted as exc:  # the first Ctrl-C: a clean, resumable stop
        err.print(escape(str(exc)), highlight=False, soft_wrap=True)
        return 130
    except PapertapeError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return 2
    except BrokenPipeError:  # `papertape ... | head`: the reader left; not an error of ours
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
