"""Arguments shared by the command groups: their types and the options several groups take."""

from __future__ import annotations

import argparse

__all__ = [
    "add_dsn_options",
    "add_strategy_dir_option",
    "key_value",
    "resolve_dsn",
    "year_list",
]


def key_value(text: str) -> tuple[str, str]:
    """Parse ``key=value`` (for repeatable ``--param``-style options)."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    k, v = text.split("=", 1)
    return k.strip(), v.strip()


def add_dsn_options(p: argparse.ArgumentParser) -> None:
    """``--dsn`` and ``--dsn-env``: where a command finds its PostgreSQL database."""
    p.add_argument("--dsn", help="PostgreSQL DSN (default: the environment variable --dsn-env)")
    p.add_argument(
        "--dsn-env",
        default="PAPERTAPE_DSN",
        metavar="VAR",
        help="environment variable holding the DSN (default PAPERTAPE_DSN)",
    )


def resolve_dsn(args: argparse.Namespace) -> str:
    """``--dsn``, else the environment variable ``--dsn-env``."""
    from papertape.engine.journal.postgres import dsn_from_env

    return str(args.dsn) if args.dsn else dsn_from_env(args.dsn_env, "--dsn-env")


def add_strategy_dir_option(p: argparse.ArgumentParser) -> None:
    """``--strategy-dir``: extra folders of drop-in strategy files, as ``args.strategy_dir``."""
    p.add_argument(
        "--strategy-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="extra folder of drop-in strategy files (repeatable)",
    )


def year_list(text: str) -> list[int]:
    """``--test-years``: ``2016-2019`` (inclusive) or ``2016,2018``.

    Raises:
        ConfigError: Neither form.
    """
    from papertape.engine.errors import ConfigError

    try:
        if "-" in text:
            a, b = (int(x) for x in text.split("-", 1))
            return list(range(a, b + 1))
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ConfigError("--test-years", text, "give 2016-2019 or 2016,2018") from None
