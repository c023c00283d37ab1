"""The ``[sweep]`` section of a config: which strategy's parameters vary, and how.

A sweep config is an ordinary run config plus one section::

    [sweep]
    strategy = "sma"            # id of the [[strategies]] entry whose params vary
    mode = "grid"               # "grid": every combination; "random": a seeded sample of it
    samples = 20                # random mode: how many cells
    seed = 11                   # random mode: sampling seed (default: run.seed)
    symbols = ["ETHBTC", "LTCBTC"]  # optional: run every cell on each symbol alone
    where = ["fast < slow"]     # keep only cells where every comparison holds
    pbo_splits = 16             # time slices of the PBO's CSCV
    walk_forward = { train_bars = 2000, test_bars = 500 }   # optional, see below
    [sweep.params]
    fast = [5, 10, 20]
    slow = [50, 100, 200]

With ``walk_forward``, every parameter combination also runs on rolling windows: fold ``k``
trains on ``train_bars`` bars and tests on the ``test_bars`` after them (``run.warmup_bars``
before each window feed the indicators without trading); the next fold moves on by
``test_bars``. The in-sample winner of each fold is scored out of sample.

The section is taken out before the rest is parsed as a :class:`~engine.config.RunConfig`.
"""

from __future__ import annotations

import hashlib
import json
import operator
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from papertape.engine.config import RunConfig, parse_config
from papertape.engine.errors import ConfigError

__all__ = ["Comparison", "SweepSpec", "load_sweep", "parse_sweep"]

_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
}


@dataclass(frozen=True, slots=True)
class Comparison:
    """One ``where`` rule: ``left op right``, each side a parameter name or a number."""

    left: str
    op: str
    right: str

    @classmethod
    def parse(cls, text: str, names: set[str]) -> Comparison:
        """Read ``"fast < slow"``; both sides must be parameter names or numbers."""
        parts = text.split()
        if len(parts) != 3 or parts[1] not in _OPERATORS:
            raise ConfigError("sweep.where", text, "write `name OP name-or-number`, OP in < <= ==")
        for side in (parts[0], parts[2]):
            if side not in names and not _is_number(side):
                raise ConfigError("sweep.where", text, f"{side!r} is not a swept parameter")
        return cls(parts[0], parts[1], parts[2])

    def holds(self, params: dict[str, Any]) -> bool:
        """Whether a cell's parameters satisfy the rule."""
        left, right = _value(self.left, params), _value(self.right, params)
        try:
            return _OPERATORS[self.op](left, right)
        except TypeError:
            text = f"{self.left} {self.op} {self.right}"
            raise ConfigError(
                "sweep.where", text, f"cannot compare {left!r} with {right!r}"
            ) from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _value(side: str, params: dict[str, Any]) -> Any:
    return params[side] if side in params else float(side)


@dataclass(frozen=True, slots=True)
class SweepSpec:
    """A validated ``[sweep]`` section.

    Attributes:
        strategy: Id of the strategy whose parameters vary; the cells run only that one.
        params: Parameter name → the values it takes, in the order given.
        mode: ``grid`` (every combination) or ``random`` (a seeded sample of the grid).
        samples: Cells drawn in random mode.
        seed: Sampling seed of random mode.
        where: Rules every kept cell satisfies.
        pbo_splits: Time slices of the CSCV behind the PBO.
        train_bars: Walk-forward training window in bars (0: no walk-forward).
        test_bars: Walk-forward test window in bars.
        symbols: Symbols each combination runs on, one at a time (empty: the config's own).
    """

    strategy: str
    params: dict[str, list[Any]]
    mode: str = "grid"
    samples: int = 0
    seed: int = 0
    where: tuple[Comparison, ...] = ()
    pbo_splits: int = 16
    train_bars: int = 0
    test_bars: int = 0
    symbols: tuple[str, ...] = ()

    def fingerprint(self) -> str:
        """A short hash of everything that decides which cells exist."""
        doc = {
            "strategy": self.strategy,
            "params": self.params,
            "mode": self.mode,
            "samples": self.samples,
            "seed": self.seed,
            "where": [[c.left, c.op, c.right] for c in self.where],
            "walk_forward": [self.train_bars, self.test_bars],
            "symbols": list(self.symbols),
        }
        text = json.dumps(doc, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def parse_sweep(section: dict[str, Any], config: RunConfig) -> SweepSpec:
    """Validate a ``[sweep]`` table against the run config it belongs to."""
    ids = [s.slot_id for s in config.strategies]
    strategy = section.get("strategy", ids[0] if len(ids) == 1 else None)
    if strategy not in ids:
        raise ConfigError("sweep.strategy", strategy, f"name one of the strategies: {ids}")
    params = section.get("params")
    if not isinstance(params, dict) or not params:
        raise ConfigError("sweep.params", params, "a table of parameter = [values, ...]")
    for name, values in params.items():
        if not isinstance(values, list) or not values:
            raise ConfigError(f"sweep.params.{name}", values, "a non-empty list of values")
        if len({json.dumps(v, sort_keys=True) for v in values}) != len(values):
            raise ConfigError(f"sweep.params.{name}", values, "values repeat")
    mode = section.get("mode", "grid")
    if mode not in ("grid", "random"):
        raise ConfigError("sweep.mode", mode, "choose grid or random")
    samples = section.get("samples", 0)
    if mode == "random" and (not isinstance(samples, int) or samples < 1):
        raise ConfigError("sweep.samples", samples, "random mode draws a positive number of cells")
    seed = section.get("seed", config.run.seed)
    if not isinstance(seed, int):
        raise ConfigError("sweep.seed", seed, "an integer")
    where = section.get("where", [])
    if not isinstance(where, list):
        raise ConfigError("sweep.where", where, "a list of rules like 'fast < slow'")
    rules = tuple(Comparison.parse(str(w), set(params)) for w in where)
    splits = section.get("pbo_splits", 16)
    if not isinstance(splits, int) or splits < 2 or splits % 2:
        raise ConfigError("sweep.pbo_splits", splits, "an even number >= 2")
    train, test = _walk_forward(section.get("walk_forward"))
    symbols = section.get("symbols", [])
    if not isinstance(symbols, list) or not all(isinstance(x, str) for x in symbols):
        raise ConfigError("sweep.symbols", symbols, "a list of symbol names")
    if len(set(symbols)) != len(symbols):
        raise ConfigError("sweep.symbols", symbols, "symbols repeat")
    known = {
        "strategy",
        "params",
        "mode",
        "samples",
        "seed",
        "where",
        "pbo_splits",
        "walk_forward",
        "symbols",
    }
    unknown = sorted(set(section) - known)
    if unknown:
        raise ConfigError(f"sweep.{unknown[0]}", section[unknown[0]], "unknown key")
    return SweepSpec(
        str(strategy), dict(params), mode, samples, seed, rules, splits, train, test, tuple(symbols)
    )


def _walk_forward(table: Any) -> tuple[int, int]:
    if table is None:
        return 0, 0
    if not isinstance(table, dict) or set(table) != {"train_bars", "test_bars"}:
        raise ConfigError("sweep.walk_forward", table, "{ train_bars = N, test_bars = M }")
    for key in ("train_bars", "test_bars"):
        if not isinstance(table[key], int) or table[key] < 2:
            raise ConfigError(f"sweep.walk_forward.{key}", table[key], "an integer >= 2")
    return int(table["train_bars"]), int(table["test_bars"])


def load_sweep(path: str | Path) -> tuple[RunConfig, SweepSpec]:
    """Read a sweep config file: the run config and its ``[sweep]`` section."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("config", str(path), "file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("config", str(path), f"not valid TOML: {exc}") from None
    section = data.pop("sweep", None)
    if not isinstance(section, dict):
        raise ConfigError("sweep", str(path), "a sweep config needs a [sweep] section")
    config = parse_config(data, base_dir=path.resolve().parent)
    return config, parse_sweep(section, config)
