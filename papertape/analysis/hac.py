"""Long-run (HAC) covariance of moment series, as Ledoit and Wolf (2008) estimate it.

The standard error of a Sharpe ratio difference needs the long-run covariance Ψ of the moment
series ``y_t`` (returns and squared returns of both traders): the covariance of their sample mean
scaled by the number of periods, allowing for autocorrelation and volatility clustering.
Ledoit and Wolf (2008, section 3.1) use the prewhitened quadratic-spectral kernel estimator of
Andrews and Monahan (1992):

1. fit a VAR(1) ``y_t = A y_{t-1} + e_t`` by least squares (singular values of ``A`` capped at
   0.97, as Andrews and Monahan do, so a near unit root cannot blow up the recolouring);
2. estimate the long-run covariance of the residuals ``e_t`` with the quadratic-spectral kernel
   and an automatic bandwidth (``arch.covariance.kernel.QuadraticSpectral``, whose bandwidth rule
   is Newey and West (1994) rather than Andrews' AR(1) plug-in — a difference in the constant,
   not in the rate);
3. recolour: ``Ψ = (I - A)^-1 Ψ_e (I - A)^-T``, with the small-sample factor ``T / (T - k)``
   for ``k`` moment columns.

A column with no variation (the moments of a trader that never held risk) contributes zeros.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["long_run_covariance"]

_MAX_SINGULAR_VALUE = 0.97


def long_run_covariance(
    moments: NDArray[np.float64], *, prewhiten: bool = True
) -> NDArray[np.float64]:
    """Long-run covariance of the columns of ``moments``.

    Args:
        moments: (periods × k) moment series; their means are removed here.
        prewhiten: Fit and remove a VAR(1) before applying the kernel (Andrews–Monahan).

    Returns:
        The (k × k) long-run covariance, so that ``Ψ / T`` estimates the covariance of the
        column means.
    """
    periods, width = moments.shape
    psi = np.zeros((width, width))
    spread = np.ptp(moments, axis=0)
    scale = np.maximum(np.max(np.abs(moments), axis=0), 1e-300)
    live = np.flatnonzero(spread > 1e-12 * scale)
    if live.size == 0:
        return psi
    centred = moments[:, live] - moments[:, live].mean(axis=0)
    k = live.size
    if prewhiten and periods > 2 * k + 2:
        lagged, current = centred[:-1], centred[1:]
        coef, *_ = np.linalg.lstsq(lagged, current, rcond=None)
        transition = coef.T
        u, s, vt = np.linalg.svd(transition)
        transition = (u * np.minimum(s, _MAX_SINGULAR_VALUE)) @ vt
        residuals = current - lagged @ transition.T
        inner = _kernel_covariance(residuals, k)
        recolour = np.linalg.inv(np.eye(k) - transition)
        block = recolour @ inner @ recolour.T
    else:
        block = _kernel_covariance(centred, k)
    psi[np.ix_(live, live)] = (block + block.T) / 2.0
    return psi


def _kernel_covariance(series: NDArray[np.float64], df_adjust: int) -> NDArray[np.float64]:
    """Quadratic-spectral kernel estimate with the ``T / (T - k)`` small-sample factor.

    The kernel weights (and the automatic bandwidth behind them) are arch's; the weighted sum
    of autocovariances over all ``T - 1`` lags is taken in the frequency domain, which costs
    ``O(T log T)`` instead of the ``O(T²)`` lag loop (minutes for a year of hourly bars).
    """
    from arch.covariance.kernel import QuadraticSpectral  # arch (pandas, scipy) loads on use

    periods = series.shape[0]
    centred = series - series.mean(axis=0)
    weights = np.array(QuadraticSpectral(centred, center=False).kernel_weights, dtype=np.float64)
    size = 2 * periods  # zero padding: circular correlation equals the plain one
    lag_weights = np.zeros(size)
    lag_weights[1 : min(len(weights), periods)] = weights[1 : min(len(weights), periods)]
    spectrum = np.fft.fft(centred, n=size, axis=0)
    weight_spectrum = np.conj(np.fft.fft(lag_weights))
    # Σ_i w_i Σ_t x_t x_{t-i}' as one product over frequencies
    one_sided = np.real((spectrum * weight_spectrum[:, None]).T @ np.conj(spectrum)) / size
    divisor = periods - df_adjust
    short_run = centred.T @ centred
    return np.asarray((short_run + one_sided + one_sided.T) / divisor, dtype=np.float64)
