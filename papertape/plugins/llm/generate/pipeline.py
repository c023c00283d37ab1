"""LLM strategy generation: ask → validate → backtest → save only what passes.

:func:`generate_strategy` shows a model a summary of the data and the rule language, asks for a
:class:`~plugins.llm.generate.spec.StrategySpec` under its JSON schema, validates the answer
(shape, indicator parameters, conditions through the safe parser), writes it as a drop-in file
into a scratch folder, backtests that very file through the normal plugin discovery, and moves
it into the output folder only when the backtest ran cleanly and traded. A rejected attempt is
kept with its reason code and shown to the model in the next attempt.
"""

from __future__ import annotations

import asyncio
import math
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from papertape.engine.config import parse_config, resolve_data_path
from papertape.engine.errors import ConfigError, PapertapeError
from papertape.engine.feeds.loader import load_bars
from papertape.engine.registry import build_catalog, make_plugin_manager
from papertape.engine.session import run_session
from papertape.plugins.llm.cache import CacheEntry, ResponseCache, request_key
from papertape.plugins.llm.generate.expr import FUNCTIONS
from papertape.plugins.llm.generate.rules import render_dropin
from papertape.plugins.llm.generate.spec import (
    BAR_FIELDS,
    INDICATOR_KINDS,
    spec_schema,
    validate_spec,
)
from papertape.plugins.llm.providers.base import LlmRequest

if TYPE_CHECKING:
    from papertape.engine.feeds.base import BarSeries
    from papertape.plugins.llm.providers.base import Provider

__all__ = ["Attempt", "GenerationResult", "data_summary", "generate_strategy"]

SYSTEM = f"""\
You design simple rule-based trading strategies and answer with one JSON object only.
Fields: name (snake_case), description, side ("long" or "short"), indicators (list of
{{name, kind, period}}), entry and exit (conditions), stop_loss_pct and take_profit_pct
(percent; 0 or null for none), size (fraction of equity, 0 < size <= 1).
Indicator kinds: {"; ".join(f"{k}: {v}" for k, v in INDICATOR_KINDS.items())}.
Conditions use the bar fields {", ".join(BAR_FIELDS)} and your indicator names, numbers,
+ - * /, comparisons (< <= > >= == !=), and, or, not, parentheses, and the functions
{", ".join(f"{f}()" for f in FUNCTIONS)}. prev(x) is x on the previous bar.
Example: entry "crosses_above(fast, slow) and rsi14 < 70", exit "crosses_below(fast, slow)".
Only use names you defined. Keep it simple: two to four indicators."""


@dataclass(frozen=True, slots=True)
class Attempt:
    """One model answer and what became of it.

    ``code`` is ``ok`` or the rejection reason: ``malformed_json``, ``invalid_spec`` (schema or
    condition), ``no_trades``, ``backtest_failed``, ``refusal``, ``timeout``, ``provider_error``.
    """

    number: int
    code: str
    detail: str
    raw: str
    spec: dict[str, Any] | None = None
    metrics: dict[str, Any] | None = None
    name: str | None = None  # the saved strategy's name when ``code`` is ``ok``


@dataclass(frozen=True, slots=True)
class GenerationResult:
    """All attempts, and the saved strategy file if one passed."""

    attempts: tuple[Attempt, ...]
    saved: Path | None = None
    name: str | None = None
    stats: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (what ``papertape generate --json`` prints)."""
        return {
            "saved": str(self.saved) if self.saved else None,
            "strategy": self.name,
            "attempts": [
                {
                    "attempt": a.number,
                    "code": a.code,
                    "detail": a.detail,
                    "spec": a.spec,
                    "metrics": a.metrics,
                    "raw": a.raw,
                }
                for a in self.attempts
            ],
            **self.stats,
        }


def data_summary(series: BarSeries) -> str:
    """A few facts about the data (nothing that would let the model fit the exact path)."""
    close = np.asarray(series.close, dtype=np.float64)
    n = len(close)
    days = (int(series.time[-1]) - int(series.time[0])) / 86_400e9 if n > 1 else 0.0
    rets = np.diff(np.log(close))
    spacing = days / max(n - 1, 1)
    per_year = 365.25 / spacing if spacing > 0 else 252.0
    peak = np.maximum.accumulate(close)
    lines = [
        f"Symbol {series.symbol}: {n} bars, about {spacing * 24 * 60:.0f} minutes apart"
        if spacing < 1
        else f"Symbol {series.symbol}: {n} bars, about {spacing:.1f} days apart",
        f"Buy-and-hold return {close[-1] / close[0] - 1:+.1%}, annualised volatility "
        f"{float(np.std(rets, ddof=1)) * math.sqrt(per_year):.1%}, worst drawdown "
        f"{float(np.min(close / peak - 1)):.1%}.",
    ]
    return "\n".join(lines)


def _unique_name(base: str, out_dir: Path, taken: set[str]) -> str:
    name = base if base.startswith("gen_") else f"gen_{base}"
    name = name[:40]
    candidate, k = name, 2
    while candidate in taken or (out_dir / f"{candidate}.py").exists():
        candidate, k = f"{name}_{k}", k + 1
    return candidate


def _backtest(file: Path, name: str, data_path: Path, symbol: str | None) -> dict[str, Any]:
    raw = {
        "run": {"name": f"generate-{name}"},
        "data": [{"path": str(data_path), "symbol": symbol}],
        "strategies": [{"name": name, "sizer": {"name": "fraction", "fraction": 1.0}}],
        "plugins": {"strategy_dirs": [str(file.parent)], "entry_points": False},
        "journal": {"enabled": False},
    }
    result = run_session(parse_config(raw, Path.cwd()))
    r = result.strategies[name]
    m = r.metrics.as_dict()
    return {
        "errors": r.errors,
        "enabled": r.enabled,
        "trades": m["trades"],
        "total_return": m["total_return"],
        "sharpe": m["sharpe"],
        "max_drawdown": m["max_drawdown"],
        "win_rate": m["win_rate"],
    }


async def _ask(
    provider: Provider,
    request: LlmRequest,
    timeout: float,
    cache: ResponseCache | None,
) -> tuple[CacheEntry, bool]:
    key = request_key(provider.identity(), request)
    hit = cache.get(key) if cache is not None else None
    if hit is not None and not hit.failed:
        return hit, True
    t0 = time.perf_counter()
    try:
        resp = await asyncio.wait_for(provider.complete(request), timeout)
        entry = CacheEntry(
            resp.text,
            resp.tokens_in,
            resp.tokens_out,
            resp.cost,
            (time.perf_counter() - t0) * 1e3,
            resp.stop_reason,
            resp.refusal,
            resp.truncated,
        )
    except TimeoutError as exc:
        entry = CacheEntry("", error_code="timeout", error=str(exc) or f"no answer in {timeout}s")
    except Exception as exc:  # any backend failure is reported, never raised
        entry = CacheEntry("", error_code="provider_error", error=f"{type(exc).__name__}: {exc}")
    if cache is not None:
        cache.put(key, entry, {**provider.identity(), "prompt": request.prompt})
    return entry, False


async def generate_strategy(
    provider: Provider,
    data: str | Path,
    *,
    out_dir: str | Path = "strategies",
    symbol: str | None = None,
    attempts: int = 3,
    temperature: float = 0.2,
    seed: int = 0,
    max_tokens: int = 700,
    timeout: float = 120.0,
    min_trades: int = 1,
    cache: ResponseCache | None = None,
) -> GenerationResult:
    """Ask ``provider`` for a rule strategy on ``data``; save the first one that passes.

    Returns:
        Every attempt with its reason code, and the saved file (None when all were rejected).

    Raises:
        ConfigError: Bad arguments (no such data file, attempts < 1).
    """
    if attempts < 1:
        raise ConfigError("--attempts", attempts, "must be >= 1")
    data_path = resolve_data_path(str(data))
    series = load_bars(data_path, symbol=symbol)
    out = Path(out_dir)
    pm, broken = make_plugin_manager((), entry_points=False)
    taken = set(build_catalog(pm, broken).strategies)
    done: list[Attempt] = []
    calls = hits = 0
    feedback = ""
    for number in range(1, attempts + 1):
        prompt = f"{data_summary(series)}\n{feedback}\nWrite one strategy for this market."
        request = LlmRequest(
            SYSTEM,
            prompt,
            spec_schema(),
            "strategy_spec",
            temperature,
            seed + number - 1,
            max_tokens,
        )
        entry, cached = await _ask(provider, request, timeout, cache)
        hits += cached
        calls += not cached
        attempt = await asyncio.to_thread(  # the backtest runs its own event loop
            _judge,
            number,
            entry,
            out,
            taken,
            data_path,
            series.symbol,
            provider,
            min_trades,
        )
        done.append(attempt)
        if attempt.name is not None:
            return GenerationResult(
                tuple(done),
                out / f"{attempt.name}.py",
                attempt.name,
                {"llm_calls": calls, "cache_hits": hits},
            )
        feedback = f"Your previous answer was rejected ({attempt.code}): {attempt.detail}"
    return GenerationResult(tuple(done), None, None, {"llm_calls": calls, "cache_hits": hits})


def _judge(
    number: int,
    entry: CacheEntry,
    out: Path,
    taken: set[str],
    data_path: Path,
    symbol: str,
    provider: Provider,
    min_trades: int,
) -> Attempt:
    if entry.failed:
        return Attempt(number, entry.error_code, entry.error[:300], "")
    if entry.refusal:
        return Attempt(number, "refusal", entry.text[:200], entry.text)
    try:
        compiled = validate_spec(entry.text)
    except ConfigError as exc:
        code = "malformed_json" if exc.key == "spec" else "invalid_spec"
        if entry.truncated:
            code = "truncated"
        return Attempt(number, code, str(exc)[:300], entry.text)
    spec = compiled.spec.model_dump(mode="json")
    name = _unique_name(compiled.spec.name, out, taken)
    with tempfile.TemporaryDirectory(prefix="papertape-gen-") as tmp:
        file = Path(tmp) / f"{name}.py"
        file.write_text(
            render_dropin(compiled, name, provider.name, provider.model, data_path.name),
            encoding="utf-8",
        )
        try:
            metrics = _backtest(file, name, data_path, symbol)
        except PapertapeError as exc:
            return Attempt(number, "backtest_failed", str(exc)[:300], entry.text, spec)
        if metrics["errors"] or not metrics["enabled"]:
            why = f"the strategy raised {metrics['errors']} time(s) in the backtest"
            return Attempt(number, "backtest_failed", why, entry.text, spec, metrics)
        if metrics["trades"] < min_trades:
            why = f"{metrics['trades']} completed trade(s) in the backtest, {min_trades} needed"
            return Attempt(number, "no_trades", why, entry.text, spec, metrics)
        out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file, out / f"{name}.py")
    return Attempt(number, "ok", f"saved as {out / name}.py", entry.text, spec, metrics, name)
