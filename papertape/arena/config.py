"""The ``[arena]`` section of an arena config, and loading a whole arena config file.

An arena config is an ordinary run config (``[run]``, ``[[data]]``, ``[execution]``,
``[[strategies]]``, ``[journal]``) plus one ``[arena]`` table::

    [arena]
    baselines = ["buy_and_hold", "always_flat", "random"]   # [] switches them off
    windows = 3                # or [{start = "2004-01-01", end = "2006-12-31"}, ...]
    warmup_bars = 250          # history each window shows before its start
    blind = false              # true: rebased, date-shifted, ticker hidden; "both": run both
    calibration_horizon = 20   # bars after a decision that decide whether it was right
    alpha = 0.05               # family-wise error rate of "beats <baseline>"
    bootstrap_reps = 2000

Every problem raises one :class:`~papertape.engine.errors.ConfigError` naming ``arena.<key>``.
"""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from papertape.engine.config import RunConfig, parse_config
from papertape.engine.errors import ConfigError

__all__ = [
    "BASELINES",
    "ArenaConfig",
    "ArenaSettings",
    "WindowSpec",
    "load_arena_config",
    "parse_arena_config",
]

BaselineName = Literal["buy_and_hold", "always_flat", "random"]
BASELINES: tuple[BaselineName, ...] = ("buy_and_hold", "always_flat", "random")


def _to_ns(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 10**9


class WindowSpec(BaseModel):
    """One evaluation period, both ends inclusive (whole days, UTC)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    start: date
    end: date

    @property
    def start_ns(self) -> int:
        """Midnight UTC of ``start``."""
        return _to_ns(self.start)

    @property
    def end_ns(self) -> int:
        """The last nanosecond of ``end`` (UTC)."""
        return _to_ns(self.end) + 86_400 * 10**9 - 1


class ArenaSettings(BaseModel):
    """``[arena]``: baselines, windows, blind mode and the statistics' knobs."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    baselines: list[BaselineName] = list(BASELINES)
    windows: int | list[WindowSpec] = 1
    warmup_bars: int = Field(250, ge=0)
    blind: bool | Literal["both"] = False
    calibration_horizon: int = Field(20, ge=1)
    alpha: float = Field(0.05, gt=0.0, lt=1.0)
    bootstrap_reps: int = Field(2000, ge=100)
    random_seed: int | None = None  # default: the run's seed

    @field_validator("baselines", mode="before")
    @classmethod
    def _switch(cls, v: Any) -> Any:
        if v is True:
            return list(BASELINES)
        if v is False:
            return []
        return v

    @field_validator("windows")
    @classmethod
    def _windows(cls, v: int | list[WindowSpec]) -> int | list[WindowSpec]:
        if isinstance(v, int):
            if v < 1:
                raise ValueError("must be >= 1")
            return v
        if not v:
            raise ValueError("give at least one window")
        for i, w in enumerate(v):
            if w.end < w.start:
                raise ValueError(f"window {i} ends ({w.end}) before it starts ({w.start})")
            if i and w.start <= v[i - 1].end:
                raise ValueError(f"window {i} starts ({w.start}) before window {i - 1} ends")
        return v

    @property
    def blind_modes(self) -> tuple[bool, ...]:
        """The variants to run: ``(False,)``, ``(True,)`` or ``(False, True)``."""
        if self.blind == "both":
            return (False, True)
        return (bool(self.blind),)


class ArenaConfig(BaseModel):
    """A run config and its arena settings."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)
    run: RunConfig
    arena: ArenaSettings

    @property
    def seed(self) -> int:
        """The random baseline's seed."""
        s = self.arena.random_seed
        return self.run.run.seed if s is None else s


def parse_arena_config(data: dict[str, Any], base_dir: str | Path = ".") -> ArenaConfig:
    """Split ``[arena]`` off a config mapping and validate both parts."""
    body = dict(data)
    section = body.pop("arena", {})
    run = parse_config(body, base_dir)
    if run.run.mode == "live":
        raise ConfigError("run.mode", "live", "an arena replays history; use backtest or replay")
    if not isinstance(section, dict):
        raise ConfigError("arena", section, "must be a table")
    try:
        arena = ArenaSettings.model_validate(section)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in _real_path(section, err["loc"])) or "<root>"
        value = err.get("input") if err["type"] != "missing" else None
        why = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        raise ConfigError(f"arena.{key}", value, why) from None
    taken = {s.slot_id for s in run.strategies}
    for name in arena.baselines:
        if name in taken:
            raise ConfigError(
                "arena.baselines",
                name,
                "a strategy already has this id; rename it or drop the baseline",
            )
    return ArenaConfig(run=run, arena=arena)


def _real_path(data: Any, loc: tuple[int | str, ...]) -> list[int | str]:
    """The part of an error location that exists in the input (drops union-member tags)."""
    path: list[int | str] = []
    for part in loc:
        found = isinstance(data, dict) and part in data
        found = found or (isinstance(data, list) and isinstance(part, int) and part < len(data))
        if found:
            data = data[part]
        else:
            if not path or isinstance(data, dict):
                path.append(part)  # a missing or unknown key is named too
            break
        path.append(part)
    return path


def load_arena_config(path: str | Path) -> ArenaConfig:
    """Read and validate an arena TOML file."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError("config", str(p), "file not found")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("config", str(p), f"not valid TOML: {exc}") from None
    return parse_arena_config(data, p.resolve().parent)
