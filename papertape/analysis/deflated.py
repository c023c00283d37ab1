"""The Deflated Sharpe Ratio: is the best of many tries better than luck?

Bailey and López de Prado (2014), "The Deflated Sharpe Ratio: Correcting for Selection Bias,
Backtest Overfitting and Non-Normality", Journal of Portfolio Management 40(5), 94–107.

Trying ``N`` strategies (traders, parameter cells) whose true Sharpe ratio is 0 still produces
a best one with a positive Sharpe ratio. :func:`expected_max_sharpe` is how large that best
one is expected to be; :func:`deflated_sharpe_ratio` is the Probabilistic Sharpe Ratio of the
observed best against that benchmark, i.e. the probability that the true Sharpe ratio of the
winner exceeds what selection alone would have produced, allowing for the skewness and
kurtosis of its returns and the length of its track record.

All Sharpe ratios here are **per period** (not annualised): divide an annual figure by
``sqrt(periods_per_year)`` first, and use the variance of the per-period Sharpe ratios across
the trials.
"""

from __future__ import annotations

import math
from statistics import NormalDist

from papertape.engine.errors import ConfigError, DataError

__all__ = ["EULER_MASCHERONI", "deflated_sharpe_ratio", "expected_max_sharpe"]

EULER_MASCHERONI = 0.5772156649015329
_NORMAL = NormalDist()


def expected_max_sharpe(n_trials: int, sharpe_std: float) -> float:
    """Expected largest Sharpe ratio among ``n_trials`` tries with true Sharpe 0.

    ``sqrt(V) · ((1 - γ) Φ⁻¹(1 - 1/N) + γ Φ⁻¹(1 - 1/(N e)))`` with γ the Euler–Mascheroni
    constant (Bailey and López de Prado 2014, eq. 5, from extreme value theory of the maximum
    of N Gaussians). With a single trial nothing was selected and the answer is 0.

    Args:
        n_trials: Number of independent tries (traders, configurations).
        sharpe_std: Standard deviation of the Sharpe ratios across the tries (per period).

    Returns:
        The expected maximum Sharpe ratio, in the units of ``sharpe_std``.

    Raises:
        ConfigError: If ``n_trials < 1`` or ``sharpe_std`` is negative or not finite.
    """
    if isinstance(n_trials, bool) or int(n_trials) != n_trials or n_trials < 1:
        raise ConfigError("n_trials", n_trials, "a number of trials is a positive integer")
    if not (math.isfinite(sharpe_std) and sharpe_std >= 0):
        raise ConfigError("sharpe_std", sharpe_std, "a standard deviation is finite and >= 0")
    if n_trials == 1:
        return 0.0
    gamma = EULER_MASCHERONI
    quantiles = (1.0 - gamma) * _NORMAL.inv_cdf(1.0 - 1.0 / n_trials) + gamma * _NORMAL.inv_cdf(
        1.0 - 1.0 / (n_trials * math.e)
    )
    return float(sharpe_std * quantiles)


def deflated_sharpe_ratio(
    observed_sharpe: float,
    *,
    n_trials: int,
    n_obs: int,
    skew: float,
    kurtosis: float,
    sharpe_std_across_trials: float,
) -> float:
    """Probability that the true Sharpe ratio of the selected strategy exceeds selection luck.

    ``DSR = Φ((SR - SR₀) sqrt(T - 1) / sqrt(1 - γ₃ SR + (γ₄ - 1)/4 · SR²))`` with
    ``SR₀ = expected_max_sharpe(n_trials, sharpe_std_across_trials)`` (Bailey and López de
    Prado 2014, eqs. 2 and 9). With ``n_trials = 1`` this is the Probabilistic Sharpe Ratio
    against 0. A value above 0.95 means the winner's edge is significant at 5 % after
    accounting for how many were tried.

    Args:
        observed_sharpe: The selected strategy's Sharpe ratio, per period.
        n_trials: How many strategies were tried (independent trials).
        n_obs: Number of return periods behind ``observed_sharpe``.
        skew: Skewness of the selected strategy's returns.
        kurtosis: Kurtosis (not excess: 3 for a normal distribution) of those returns.
        sharpe_std_across_trials: Standard deviation of the per-period Sharpe ratios of all
            trials.

    Returns:
        A probability in [0, 1].

    Raises:
        ConfigError: If a count is not a positive integer or a moment is not finite.
        DataError: If the moments make the Sharpe ratio's variance non-positive.
    """
    if isinstance(n_obs, bool) or int(n_obs) != n_obs or n_obs < 2:
        raise ConfigError("n_obs", n_obs, "at least 2 observations are needed")
    for key, value in (
        ("observed_sharpe", observed_sharpe),
        ("skew", skew),
        ("kurtosis", kurtosis),
    ):
        if not math.isfinite(value):
            raise ConfigError(key, value, "must be finite")
    benchmark = expected_max_sharpe(n_trials, sharpe_std_across_trials)
    variance = 1.0 - skew * observed_sharpe + (kurtosis - 1.0) / 4.0 * observed_sharpe**2
    if variance <= 0:
        raise DataError(
            f"skew={skew} and kurtosis={kurtosis} give a non-positive Sharpe ratio variance"
        )
    z = (observed_sharpe - benchmark) * math.sqrt(n_obs - 1) / math.sqrt(variance)
    return float(_NORMAL.cdf(z))
