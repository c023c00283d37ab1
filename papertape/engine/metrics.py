"""Performance metrics of one equity curve and the trades that produced it.

:func:`compute_metrics` turns an equity curve (one value per bar, timestamps in ns since the Unix
epoch, UTC) and its :class:`ClosedTrade` list into a frozen :class:`PerformanceReport`, with
vectorised numpy only (a million bars take a few tens of milliseconds).

Conventions:

* Returns are simple per-bar returns ``r_t = e_t / e_{t-1} - 1``.
* Annualisation (:func:`periods_per_year_from_times`) follows the median bar spacing ``d``:
  daily bars (``20 h <= d < 2 days``) whose mean spacing exceeds the median by more than 20 %
  (weekend and holiday gaps, as in an equity index) count 252 trading days a year; anything
  else counts calendar time, ``365.25 days / d`` (crypto trades 24/7). A daily sample shorter
  than a week shows no weekend, and intraday bars of a market with sessions are treated as
  continuous: pass ``periods_per_year`` for those.
* CAGR uses the calendar span of the timestamps (first to last), years of 365.25 days, while
  volatility, Sharpe and Sortino annualise by bar count (``ppy``). On purpose: CAGR is a growth
  rate of money, which compounds over elapsed time whether or not the market is open (so it
  compares with any interest rate and across data sets with different gaps); Sharpe is a
  statistic of the per-bar return distribution, whose variance accumulates per observed return,
  not per calendar day, so it scales with ``sqrt(bars per year)``. Calendar annualisation
  would inflate a daily equity Sharpe by ``sqrt(365 / 252)``.
* The risk-free rate is annual (config ``[metrics] risk_free``, default 0); per bar it is
  ``(1 + rf) ** (1 / ppy) - 1``, subtracted from returns in Sharpe and Sortino only.
* Sharpe = ``mean(excess) / std(excess, ddof=1) * sqrt(ppy)``; volatility =
  ``std(r, ddof=1) * sqrt(ppy)``; Sortino = ``mean(excess) / DD * sqrt(ppy)`` with the target
  downside deviation ``DD = sqrt(mean(min(excess, 0) ** 2))`` over *all* bars (Sortino & Price).
* Max drawdown is a positive fraction of the running peak, ``max(1 - e / cummax(e))``. Drawdown
  duration is the longest stretch from a peak (the last bar at it) to the first bar back at or
  above it, or to the last bar if never regained; in bars and, separately, in seconds.
* Calmar = CAGR / max drawdown.
* Win rate, profit factor and expectancy are per closed trade (each trade's pnl net of its
  fees), not per period. A win has ``pnl > 0``, a loss ``pnl < 0``; breakeven trades count only
  in the win-rate denominator and in expectancy. ``avg_loss`` is negative. Profit factor =
  gross profit / gross loss.

Degenerate cases never raise:

* Fewer than two returns (one or two points): volatility, Sharpe, Sortino are NaN; one point
  also gives NaN CAGR and NaN ``periods_per_year``.
* Zero dispersion (spreads under 1e-12 per bar are float noise): a ratio is 0.0 when its
  numerator is ~0 too, else ±inf. A flat curve, a strategy that never trades, ranks 0.0 on
  Sharpe, Sortino and Calmar; a curve that only rises has infinite Sortino and Calmar.
* No trades: win rate, profit factor, expectancy, avg win and avg loss are NaN. No losses:
  profit factor inf; only breakeven trades: NaN.
* Equity at or below zero: CAGR is -1.0, max drawdown may exceed 1, and volatility, Sharpe and
  Sortino are NaN (returns from a non-positive base mean nothing).

Points sharing a timestamp count once, with the last one's equity (and exposure): a tick-by-tick
run marks one step per trade, and trades may share a time; the equity at that time is the one
after its last tick.

Malformed input (mismatched lengths, no points, non-finite equity, non-positive initial equity,
timestamps that decrease) raises :class:`~engine.errors.DataError`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray

from papertape.engine.errors import ConfigError, DataError, ExecutionError

__all__ = [
    "SECONDS_PER_YEAR",
    "TRADING_DAYS_PER_YEAR",
    "ClosedTrade",
    "PerformanceReport",
    "compute_metrics",
    "periods_per_year_from_times",
]

NS_PER_SECOND = 1_000_000_000
SECONDS_PER_YEAR = 365.25 * 86_400.0
TRADING_DAYS_PER_YEAR = 252.0
_DAILY_MIN_S = 20 * 3_600.0
_DAILY_MAX_S = 2 * 86_400.0
_CALENDAR_GAP_RATIO = 1.2  # daily equity data: mean/median spacing ~1.4 (weekends), crypto ~1.0
_ZERO_DISPERSION = 1e-12  # a per-bar spread this small is float noise, not risk

_FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ClosedTrade:
    """One round trip, opened and closed; produced by the engine.

    Attributes:
        symbol: Instrument traded.
        side: +1 for a long, -1 for a short.
        qty: Quantity traded, always positive.
        entry_time: Entry fill time, ns since the Unix epoch (UTC).
        entry_price: Average entry price.
        exit_time: Exit fill time, ns since the Unix epoch (UTC).
        exit_price: Average exit price.
        pnl: Realised profit and loss, net of fees.
        fees: Fees paid on entry and exit together.
        bars_held: Number of bars the position was open.

    Raises:
        ExecutionError: If side, qty, the times or bars_held are inconsistent.
    """

    symbol: str
    side: int
    qty: float
    entry_time: int
    entry_price: float
    exit_time: int
    exit_price: float
    pnl: float
    fees: float
    bars_held: int

    def __post_init__(self) -> None:
        if self.side not in (1, -1):
            raise ExecutionError(f"{self.symbol}: trade side must be +1 or -1, got {self.side!r}")
        if not (math.isfinite(self.qty) and self.qty > 0):
            raise ExecutionError(f"{self.symbol}: trade qty must be positive, got {self.qty!r}")
        if self.exit_time < self.entry_time:
            raise ExecutionError(
                f"{self.symbol}: trade exits at {self.exit_time} before it enters at "
                f"{self.entry_time}"
            )
        if self.bars_held < 0:
            raise ExecutionError(f"{self.symbol}: bars_held must be >= 0, got {self.bars_held}")


@dataclass(frozen=True, slots=True)
class PerformanceReport:
    """Performance of one equity curve; see the module docstring for every convention.

    Attributes:
        initial_equity: First point of the curve.
        final_equity: Last point of the curve.
        total_return: ``final / initial - 1``.
        cagr: Compound annual growth rate over the calendar span of the timestamps.
        volatility: Annualised standard deviation of per-bar returns.
        sharpe: Annualised Sharpe ratio of per-bar excess returns.
        sortino: Annualised Sortino ratio (target downside deviation over all bars).
        calmar: CAGR divided by max drawdown.
        max_drawdown: Largest fall from a running peak, as a positive fraction.
        max_drawdown_duration_bars: Longest peak-to-recovery stretch, in bars.
        max_drawdown_duration: Longest peak-to-recovery stretch, in seconds.
        win_rate: Fraction of closed trades with positive pnl.
        profit_factor: Gross profit / gross loss.
        expectancy: Mean pnl per closed trade.
        avg_win: Mean pnl of winning trades.
        avg_loss: Mean pnl of losing trades (negative).
        exposure: Fraction of bars with a non-zero position.
        trades: Number of closed trades.
        bars: Number of points in the curve.
        periods_per_year: Bars per year used to annualise.
    """

    initial_equity: float
    final_equity: float
    total_return: float
    cagr: float
    volatility: float
    sharpe: float
    sortino: float
    calmar: float
    max_drawdown: float
    max_drawdown_duration_bars: int
    max_drawdown_duration: float
    win_rate: float
    profit_factor: float
    expectancy: float
    avg_win: float
    avg_loss: float
    exposure: float
    trades: int
    bars: int
    periods_per_year: float

    def as_dict(self) -> dict[str, float | int | None]:
        """Return the report as JSON-safe plain values; NaN and ±inf become ``None``."""
        out: dict[str, float | int | None] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float):
                out[f.name] = float(value) if math.isfinite(value) else None
            else:
                out[f.name] = int(value)
        return out


def periods_per_year_from_times(times: NDArray[np.int64]) -> float:
    """Infer how many bars make a year from the bar timestamps.

    Daily bars with weekend gaps (median spacing in [20 h, 2 days) and mean spacing more than
    1.2 x the median) give 252; anything else gives ``365.25 days / median spacing``.

    Args:
        times: Bar timestamps, ns since the Unix epoch (UTC), increasing.

    Returns:
        Bars per year, or NaN when fewer than two timestamps (or no positive spacing) exist.
    """
    ts = np.asarray(times, dtype=np.int64)
    if ts.size < 2:
        return math.nan
    gaps = np.diff(ts)
    median_s = float(np.median(gaps)) / NS_PER_SECOND
    if median_s <= 0:
        return math.nan
    mean_s = float(ts[-1] - ts[0]) / (ts.size - 1) / NS_PER_SECOND
    if _DAILY_MIN_S <= median_s < _DAILY_MAX_S and mean_s > _CALENDAR_GAP_RATIO * median_s:
        return TRADING_DAYS_PER_YEAR
    return SECONDS_PER_YEAR / median_s


def compute_metrics(
    equity: NDArray[np.float64],
    times: NDArray[np.int64],
    trades: Sequence[ClosedTrade],
    exposure_mask: NDArray[np.bool_] | None = None,
    risk_free: float = 0.0,
    periods_per_year: float | None = None,
) -> PerformanceReport:
    """Compute the performance report of an equity curve and its closed trades.

    Args:
        equity: Portfolio value at each bar.
        times: Timestamp of each bar, ns since the Unix epoch (UTC), never decreasing (points
            sharing a time count once, with the last one's equity and exposure).
        trades: Closed round trips.
        exposure_mask: True (non-zero) where a position was held at that bar. When omitted,
            exposure is derived from the trades: a bar is exposed when its timestamp lies in
            ``[entry_time, exit_time)`` of some trade (positions still open at the end are
            missed, so the engine should pass the mask).
        risk_free: Annual risk-free rate, e.g. 0.02.
        periods_per_year: Bars per year; inferred by :func:`periods_per_year_from_times`
            when omitted.

    Returns:
        The report; degenerate cases are defined in the module docstring.

    Raises:
        DataError: If the curve, its timestamps or the mask are malformed.
        ConfigError: If ``periods_per_year`` or ``risk_free`` is out of range.
    """
    eq, ts, held = _validated_curve(equity, times, exposure_mask)
    if periods_per_year is None:
        ppy = periods_per_year_from_times(ts)
    elif math.isfinite(periods_per_year) and periods_per_year > 0:
        ppy = float(periods_per_year)
    else:
        raise ConfigError("periods_per_year", periods_per_year, "must be positive and finite")
    if not (math.isfinite(risk_free) and risk_free > -1.0):
        raise ConfigError("risk_free", risk_free, "must be a finite annual rate above -1")

    initial, final = float(eq[0]), float(eq[-1])
    volatility, sharpe, sortino = _return_stats(eq, ppy, risk_free)
    max_dd, dd_bars, dd_seconds = _drawdown(eq, ts)
    cagr = _cagr(initial, final, ts)
    win_rate, profit_factor, expectancy, avg_win, avg_loss = _trade_stats(trades)
    return PerformanceReport(
        initial_equity=initial,
        final_equity=final,
        total_return=final / initial - 1.0,
        cagr=cagr,
        volatility=volatility,
        sharpe=sharpe,
        sortino=sortino,
        calmar=_ratio(cagr, max_dd),
        max_drawdown=max_dd,
        max_drawdown_duration_bars=dd_bars,
        max_drawdown_duration=dd_seconds,
        win_rate=win_rate,
        profit_factor=profit_factor,
        expectancy=expectancy,
        avg_win=avg_win,
        avg_loss=avg_loss,
        exposure=_exposure(ts, held, trades),
        trades=len(trades),
        bars=int(eq.size),
        periods_per_year=ppy,
    )


def _validated_curve(
    equity: NDArray[np.float64], times: NDArray[np.int64], mask: NDArray[np.bool_] | None
) -> tuple[_FloatArray, NDArray[np.int64], NDArray[np.bool_] | None]:
    """The checked curve, times and exposure mask, one point per time (the last of each)."""
    try:
        eq = np.asarray(equity, dtype=np.float64)
        ts = np.asarray(times, dtype=np.int64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"equity and times must be numeric arrays: {exc}") from exc
    if eq.ndim != 1 or ts.shape != eq.shape:
        raise DataError(
            f"equity and times must be 1-D and of equal length, got {eq.shape} and {ts.shape}"
        )
    if eq.size == 0:
        raise DataError("an equity curve needs at least one point")
    if not bool(np.isfinite(eq).all()):
        raise DataError("equity contains NaN or infinite values")
    if eq[0] <= 0:
        raise DataError(f"initial equity must be positive, got {float(eq[0])}")
    held = None if mask is None else np.asarray(mask) != 0
    if held is not None and held.shape != eq.shape:
        raise DataError(f"exposure_mask has shape {held.shape}, the curve {eq.shape}")
    step = np.diff(ts)
    if bool((step < 0).any()):
        raise DataError("times must never decrease")
    if bool((step == 0).any()):  # ticks sharing a time: keep the last point of each
        keep = np.append(step > 0, True)
        eq, ts = eq[keep], ts[keep]
        held = None if held is None else held[keep]
    return eq, ts, held


def _ratio(num: float, den: float) -> float:
    """``num / den`` where a ~0 denominator gives 0.0 for a ~0 numerator, else ±inf."""
    if math.isnan(num) or math.isnan(den):
        return math.nan
    if abs(den) < _ZERO_DISPERSION:
        return 0.0 if abs(num) < _ZERO_DISPERSION else math.copysign(math.inf, num)
    return num / den


def _return_stats(eq: _FloatArray, ppy: float, risk_free: float) -> tuple[float, float, float]:
    """Annualised volatility, Sharpe and Sortino of the curve's simple returns."""
    if eq.size < 3 or not math.isfinite(ppy) or bool((eq[:-1] <= 0).any()):
        return math.nan, math.nan, math.nan
    returns = eq[1:] / eq[:-1] - 1.0
    excess = returns - ((1.0 + risk_free) ** (1.0 / ppy) - 1.0)
    mean = float(excess.mean())
    downside = math.sqrt(float(np.mean(np.square(np.minimum(excess, 0.0)))))
    scale = math.sqrt(ppy)
    volatility = float(returns.std(ddof=1)) * scale
    sharpe = _ratio(mean, float(excess.std(ddof=1))) * scale
    return volatility, sharpe, _ratio(mean, downside) * scale


def _drawdown(eq: _FloatArray, ts: NDArray[np.int64]) -> tuple[float, int, float]:
    """Max drawdown fraction and the longest peak-to-recovery stretch in bars and seconds."""
    peak = np.maximum.accumulate(eq)
    max_dd = float(np.max(1.0 - eq / peak))
    underwater = eq < peak
    if not bool(underwater.any()):
        return max_dd, 0, 0.0
    idx = np.arange(eq.size)
    last_peak = np.maximum.accumulate(np.where(underwater, 0, idx))
    # Bar t closes (or extends) an episode that began at last_peak[t-1] when t-1 or t is under.
    in_episode = underwater[1:] | underwater[:-1]
    start = last_peak[:-1][in_episode]
    bars = int(np.max(idx[1:][in_episode] - start))
    seconds = float(np.max(ts[1:][in_episode] - ts[start])) / NS_PER_SECOND
    return max_dd, bars, seconds


def _cagr(initial: float, final: float, ts: NDArray[np.int64]) -> float:
    years = float(ts[-1] - ts[0]) / NS_PER_SECOND / SECONDS_PER_YEAR
    if years <= 0:
        return math.nan
    if final <= 0:
        return -1.0
    with np.errstate(over="ignore"):
        return float(np.float64(final / initial) ** (1.0 / years)) - 1.0


def _trade_stats(trades: Sequence[ClosedTrade]) -> tuple[float, float, float, float, float]:
    """Win rate, profit factor, expectancy, average win and (negative) average loss."""
    if not trades:
        return math.nan, math.nan, math.nan, math.nan, math.nan
    pnl = np.fromiter((t.pnl for t in trades), dtype=np.float64, count=len(trades))
    wins, losses = pnl[pnl > 0], pnl[pnl < 0]
    gross_profit, gross_loss = float(wins.sum()), -float(losses.sum())
    if gross_loss > 0:
        profit_factor = gross_profit / gross_loss
    else:
        profit_factor = math.inf if gross_profit > 0 else math.nan
    return (
        wins.size / pnl.size,
        profit_factor,
        float(pnl.mean()),
        float(wins.mean()) if wins.size else math.nan,
        float(losses.mean()) if losses.size else math.nan,
    )


def _exposure(
    ts: NDArray[np.int64], mask: NDArray[np.bool_] | None, trades: Sequence[ClosedTrade]
) -> float:
    """Fraction of bars with a position, from the mask or else from the trades' holding spans."""
    if mask is not None:  # checked and aligned with ts by _validated_curve
        return float(np.count_nonzero(mask)) / ts.size
    if not trades:
        return 0.0
    entries = np.fromiter((t.entry_time for t in trades), dtype=np.int64, count=len(trades))
    exits = np.fromiter((t.exit_time for t in trades), dtype=np.int64, count=len(trades))
    open_count = np.zeros(ts.size + 1, dtype=np.int64)
    np.add.at(open_count, np.searchsorted(ts, entries, side="left"), 1)
    np.add.at(open_count, np.searchsorted(ts, exits, side="left"), -1)
    return float(np.count_nonzero(np.cumsum(open_count[:-1]) > 0)) / ts.size
