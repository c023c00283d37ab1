"""Run configuration: TOML files parsed into frozen, validated objects.

Every validation problem becomes one :class:`~engine.errors.ConfigError` naming the dotted key
and the bad value. Relative data paths are looked up next to the config file, then in the
working directory, then among the data files shipped with papertape (``engine/data``). The
run id is a hash of the resolved config, so the same config always gets the same id.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from papertape.engine.errors import ConfigError, DataFileNotFound

__all__ = [
    "AccountConfig",
    "DataFeedConfig",
    "ExecutionConfig",
    "JournalConfig",
    "LiveConfig",
    "MetricsConfig",
    "PluginRef",
    "PostgresConfig",
    "RunConfig",
    "RunSection",
    "SlippageConfig",
    "StrategyConfig",
    "load_config",
    "parse_config",
    "resolve_data_path",
    "safe_name",
]

PACKAGED_DATA = Path(__file__).resolve().parent / "data"


DEFAULT_BUDGET_S = 2.0  # run.strategy_budget_s
MAX_BPS = 10_000.0  # 100 %: a fee or slippage above it is a typo, not a cost model
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


def safe_name(name: str) -> str:
    """``name`` as a plain file name: only ``A-Za-z0-9._-``, no leading dot, never empty.

    A run name becomes a folder under ``journal.dir``; ``../escape`` or ``/etc`` must not
    make it a path elsewhere.
    """
    clean = _UNSAFE_NAME.sub("_", name)[:64]
    if clean.startswith("."):
        clean = "_" + clean[1:]
    return clean or "run"


class _Frozen(BaseModel):
    # Every float field must be finite (TOML allows nan and inf): a nan cash or fee would
    # only fail much later, naming no key.
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class RunSection(_Frozen):
    """``[run]``: identity and money."""

    name: str = "run"
    mode: Literal["backtest", "replay", "live"] = "backtest"
    seed: int = 0
    initial_cash: float = Field(100_000.0, gt=0)
    max_strategy_errors: int = Field(3, ge=1)
    # The data window: bars opening at or after `start` and before `end` (ISO dates or times,
    # UTC); `warmup_bars` bars per symbol before `start` feed indicators but never trade.
    start: str | None = None
    end: str | None = None
    warmup_bars: int = Field(0, ge=0)
    # Filled in by the session from what it loaded (leave them out of config files): being
    # part of the config hash, they make the run id change with the data and the version.
    data_hash: str = ""
    version: str = ""
    # Seconds one on_bar call may take before it is stopped and counted as an error (0: off).
    strategy_budget_s: float = Field(DEFAULT_BUDGET_S, ge=0, le=3600)


class DataFeedConfig(_Frozen):
    """One ``[[data]]`` entry: a file of bars or trades, or a symbol's bars in PostgreSQL."""

    path: str = ""
    symbol: str | None = None
    kind: Literal["auto", "ohlcv", "trades"] = "auto"
    timeframe: str | None = None
    source: Literal["file", "postgres"] = "file"  # postgres: papertape.candles, by symbol
    # the run stops with a DataError when validation rejects more than this share of the rows
    max_rejected_share: float = Field(0.05, ge=0.0, le=1.0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _located(self) -> DataFeedConfig:
        if self.source == "file" and not self.path:
            raise ValueError("a file data source needs `path`")
        if self.source == "postgres" and not self.symbol:
            raise ValueError("a postgres data source needs `symbol`")
        return self


class SlippageConfig(_Frozen):
    """``[execution.slippage]``: ``fixed`` (bps) or ``volatility`` (k × σ of log returns)."""

    model: Literal["fixed", "volatility"] = "fixed"
    bps: float = Field(0.0, ge=0, le=MAX_BPS)
    k: float = Field(0.1, ge=0)
    window: int = Field(20, ge=2)


class ExecutionConfig(_Frozen):
    """``[execution]``: fill timing, fees and slippage."""

    fill_at: Literal["next_open", "next_close"] = "next_open"
    maker_bps: float = Field(0.0, ge=0, le=MAX_BPS)
    taker_bps: float = Field(0.0, ge=0, le=MAX_BPS)
    slippage: SlippageConfig = SlippageConfig()


class AccountConfig(_Frozen):
    """``[account]``: buying power, checked at each fill (see docs/execution.md).

    ``cash`` (default): buys never take cash below zero at the fill price, fees included, and
    shorts are refused. ``margin``: shorts allowed, gross exposure after a fill capped at
    ``max_leverage × equity``.
    """

    type: Literal["cash", "margin"] = "cash"
    max_leverage: float = Field(2.0, gt=0)


class MetricsConfig(_Frozen):
    """``[metrics]``: how results are scored.

    ``risk_free`` is an annual rate (0.02 = 2 %) subtracted per bar from returns in Sharpe and
    Sortino.
    """

    risk_free: float = Field(0.0, gt=-1)


class PluginRef(BaseModel):
    """A sizer or shield: ``{name = "fraction", fraction = 0.5}`` (other keys are its params)."""

    model_config = ConfigDict(frozen=True, extra="allow")
    name: str

    @property
    def params(self) -> dict[str, Any]:
        """Everything except ``name``."""
        return dict(self.model_extra or {})


class StrategyConfig(_Frozen):
    """One ``[[strategies]]`` entry."""

    name: str
    id: str | None = None
    symbols: list[str] | None = None
    initial_cash: float | None = Field(None, gt=0)
    params: dict[str, Any] = {}
    sizer: PluginRef = PluginRef(name="fraction")
    shields: list[PluginRef] = []

    @property
    def slot_id(self) -> str:
        """The instance id (defaults to the strategy name)."""
        return self.id or self.name


class JournalConfig(_Frozen):
    """``[journal]``: where events go and how durably (see docs/storage.md)."""

    enabled: bool = True
    dir: str = "journals"
    mark_every: int = Field(0, ge=0)
    # batch: ticks are written together (up to 64 KiB or 0.2 s); a killed process loses at
    # most those, a resume re-executes them. process: a tick's events survive a killed
    # process; fsync: also a power loss. auto: fsync for live sessions, batch otherwise.
    durability: Literal["auto", "batch", "process", "fsync"] = "auto"
    # The SQLite index beside the log: true keeps it current while the run goes on, false
    # leaves it to the first reader (``journal show``/``index`` build it from the log);
    # auto: kept by live sessions (followed while they run), left to readers otherwise.
    index: bool | Literal["auto"] = "auto"


class PostgresConfig(_Frozen):
    """``[postgres]``: the team database; the DSN itself stays in the environment."""

    dsn_env: str = Field("PAPERTAPE_DSN", min_length=1)
    journal: bool = True  # mirror the journal into papertape.journal_events / trades / runs
    buffer: int = Field(100_000, ge=1)  # events held in memory while the database is away
    drain_timeout: float = Field(30.0, ge=0)  # seconds the end of a run waits for the mirror


class PluginsConfig(_Frozen):
    """``[plugins]``: extra drop-in folders and entry-point loading."""

    strategy_dirs: list[str] = []
    entry_points: bool = True


class LiveConfig(_Frozen):
    """``[live]``: the market-data feed of a live paper session (``run.mode = "live"``).

    See docs/live.md; ``url`` may point at ``papertape feed serve`` for offline sessions.
    """

    url: str = "wss://ws.kraken.com/v2"
    symbols: list[str] = Field(min_length=1)
    book_depth: Literal[10, 25, 100, 500, 1000] = 10
    ohlc_interval: Literal[1, 5, 15, 30, 60, 240, 1440, 10080, 21600] = 1  # minutes
    staleness_s: float = Field(10.0, gt=0)  # no data/heartbeat this long: stale, orders vetoed
    heartbeat_timeout_s: float = Field(10.0, gt=0)  # silent this long: reconnect
    reconnect_initial_s: float = Field(0.5, gt=0)
    reconnect_max_s: float = Field(30.0, gt=0)
    max_failures: int = Field(0, ge=0)  # consecutive failed connections before giving up; 0 never
    duration_s: float = Field(0.0, ge=0)  # 0: until interrupted (or the replay server ends)
    max_bars: int = Field(0, ge=0)  # stop after this many live (not backfilled) bars; 0: none
    history_bars: int = Field(4096, ge=16)  # ring capacity per symbol
    limit_fill: Literal["through", "touch"] = "through"  # a trade must cross, or touch, a limit

    @field_validator("url")
    @classmethod
    def _websocket(cls, v: str) -> str:
        if not v.startswith(("ws://", "wss://")):
            raise ValueError("must be a ws:// or wss:// URL")
        return v


class RunConfig(_Frozen):
    """A whole run."""

    run: RunSection = RunSection()
    data: list[DataFeedConfig] = Field(default_factory=list, validate_default=True)
    execution: ExecutionConfig = ExecutionConfig()
    account: AccountConfig = AccountConfig()
    metrics: MetricsConfig = MetricsConfig()
    strategies: list[StrategyConfig]
    shields: list[PluginRef] = []  # portfolio-level, across all strategies
    annotators: list[PluginRef] = []  # [[annotators]] name = "regime", model = "models/hmm-spx"
    journal: JournalConfig = JournalConfig()
    postgres: PostgresConfig | None = None
    plugins: PluginsConfig = PluginsConfig()
    live: LiveConfig | None = None  # the feed of run.mode = "live"
    base_dir: str = Field(".", exclude=True)

    @field_validator("data")
    @classmethod
    def _some_data(cls, v: list[DataFeedConfig], info: ValidationInfo) -> list[DataFeedConfig]:
        run = info.data.get("run")
        if not v and not (run is not None and run.mode == "live"):
            raise ValueError("at least one data file is required")
        return v

    @model_validator(mode="after")
    def _live_feed(self) -> RunConfig:
        if self.run.mode == "live" and self.live is None:
            raise ConfigError("live", None, "run.mode = 'live' needs a [live] section")
        if self.live is not None and self.run.mode != "live":
            raise ConfigError("run.mode", self.run.mode, "a [live] section needs mode = 'live'")
        return self

    @field_validator("strategies")
    @classmethod
    def _some_strategies(cls, v: list[StrategyConfig]) -> list[StrategyConfig]:
        if not v:
            raise ValueError("at least one strategy is required")
        return v

    @model_validator(mode="after")
    def _unique_ids(self) -> RunConfig:
        seen: set[str] = set()
        for i, s in enumerate(self.strategies):
            if s.slot_id in seen:
                raise ConfigError(
                    f"strategies.{i}.id",
                    s.slot_id,
                    "two strategies share this id; give each an explicit `id`",
                )
            seen.add(s.slot_id)
        return self

    def canonical(self) -> dict[str, Any]:
        """The resolved config as plain JSON-able data (what the run id hashes)."""
        return self.model_dump(mode="json", exclude={"base_dir"})

    @property
    def config_hash(self) -> str:
        """SHA-256 of the canonical config, less where output goes (journal dir, on/off)."""
        data = self.canonical()
        data["journal"] = {
            k: v
            for k, v in data["journal"].items()
            if k not in ("dir", "enabled", "durability", "index")
        }
        data.pop("postgres", None)
        if data["run"].get("strategy_budget_s") == DEFAULT_BUDGET_S:
            del data["run"]["strategy_budget_s"]  # run ids from before the budget stay valid
        blob = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()

    @property
    def run_id(self) -> str:
        """``<name>-<first 12 hex of the config hash>``, a safe file name (see safe_name)."""
        return f"{safe_name(self.run.name)}-{self.config_hash[:12]}"


def _key(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc) or "<root>"


def _lookup(data: Any, loc: tuple[int | str, ...]) -> Any:
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _check_finite(data: Any, loc: tuple[int | str, ...] = ()) -> None:
    """Refuse nan and inf anywhere in a config (TOML allows them; no setting means them)."""
    if isinstance(data, float) and not math.isfinite(data):
        raise ConfigError(_key(loc), data, "must be a finite number")
    if isinstance(data, dict):
        for k, v in data.items():
            _check_finite(v, (*loc, k))
    elif isinstance(data, list | tuple):
        for i, v in enumerate(data):
            _check_finite(v, (*loc, i))


def parse_config(data: dict[str, Any], base_dir: str | Path = ".") -> RunConfig:
    """Validate a config mapping; raise ConfigError naming the first bad key."""
    _check_finite(data)
    try:
        return RunConfig.model_validate({**data, "base_dir": str(base_dir)})
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        ctx_err = (err.get("ctx") or {}).get("error")
        if isinstance(ctx_err, ConfigError):
            raise ctx_err from None
        value = err.get("input") if err["type"] != "missing" else None
        if err["type"] == "extra_forbidden":
            raise ConfigError(_key(loc), _lookup(data, loc), "unknown key") from None
        if err["type"] == "missing":
            raise ConfigError(_key(loc), None, "required key is missing") from None
        raise ConfigError(_key(loc), value, err["msg"]) from None


def load_config(path: str | Path) -> RunConfig:
    """Read and validate a TOML run config."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError("config", str(p), "file not found")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            "config",
            str(p),
            f"not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start}); "
            "TOML files must be UTF-8: re-save it as UTF-8",
        ) from None
    except OSError as exc:
        raise ConfigError("config", str(p), f"cannot read: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("config", str(p), f"not valid TOML: {exc}") from None
    return parse_config(data, p.resolve().parent)


def resolve_data_path(path: str, base_dir: str | Path = ".") -> Path:
    """Find a data file: absolute, next to the config, in the working dir, or shipped."""
    p = Path(path).expanduser()
    if p.is_absolute():
        if p.is_file():
            return p
        raise DataFileNotFound(f"data file not found: {p}")
    tried = [Path(base_dir) / p, Path.cwd() / p, PACKAGED_DATA / p, PACKAGED_DATA / p.name]
    for cand in tried:
        if cand.is_file():
            return cand.resolve()
    places = dict.fromkeys(str(c.parent.resolve()) for c in tried)  # each folder once
    raise DataFileNotFound(f"data file not found: {path} (looked in: {', '.join(places)})")
