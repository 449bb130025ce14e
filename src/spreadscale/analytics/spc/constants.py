"""SPC constants and run-analysis thresholds.

Control-chart constants follow the textbook definitions (c4 from the gamma function,
A3, B3, B4); Anhøj thresholds follow Anhøj & Olesen (2014).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from numpy.typing import ArrayLike, NDArray

# math.lgamma over arrays; the engine avoids importing scipy (a 0.2 s import) on its hot path.
_lgamma = np.frompyfunc(math.lgamma, 1, 1)


def gammaln(v: NDArray[np.float64]) -> NDArray[np.float64]:
    """Elementwise log-gamma (evaluated once per distinct value)."""
    uniq, inv = np.unique(v, return_inverse=True)
    return np.asarray(_lgamma(uniq), dtype=float)[inv].reshape(v.shape)

#: d2 for moving ranges of two, as used by qicharts2 (sigma = AMR / D2).
D2 = 1.128
#: Upper limit of a moving range of two (D4); also the Nelson screening cut-off.
MR_UCL_FACTOR = 3.267
#: The rounded XmR constant of Making Data Count (3 / 1.128 rounded to 2.66).
MDC_E2 = 2.66


def c4(n: ArrayLike) -> NDArray[np.float64]:
    """Return the bias-correction constant c4(n) for the sample standard deviation.

    Parameters
    ----------
    n : array_like
        Subgroup sizes (>= 2); other sizes give NaN.

    Returns
    -------
    numpy.ndarray
        ``sqrt(2/(n-1)) * Gamma(n/2) / Gamma((n-1)/2)``, computed with ``lgamma``.

    Examples
    --------
    >>> round(float(c4(5)), 4)
    0.94
    >>> round(float(c4(2)), 4)
    0.7979
    """
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = n >= 2
        safe = np.where(ok, n, 2.0)
        out = np.sqrt(2.0 / (safe - 1.0)) * np.exp(gammaln(safe / 2.0) - gammaln((safe - 1.0) / 2.0))
    return np.where(ok, out, np.nan)


def a3(n: ArrayLike) -> NDArray[np.float64]:
    """Return A3(n) = 3 / (c4(n) sqrt(n)), the Xbar-chart factor for an s-based sigma.

    Examples
    --------
    >>> round(float(a3(5)), 3)
    1.427
    """
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 3.0 / (c4(n) * np.sqrt(n))


def b3_b4(n: ArrayLike, k: float = 3.0) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return (B3, B4) for the s chart: B4 = 1 + k c5/c4, B3 = max(0, 1 - k c5/c4).

    ``k`` is the width of the limits in sigmas (3 for the textbook constants).

    Examples
    --------
    >>> b3, b4 = b3_b4([5, 10])
    >>> [round(float(v), 3) for v in b4]
    [2.089, 1.716]
    >>> [round(float(v), 3) for v in b3]
    [0.0, 0.284]
    """
    c = c4(n)
    with np.errstate(invalid="ignore"):
        w = k * np.sqrt(1.0 - c * c) / c
    return np.maximum(0.0, 1.0 - w), 1.0 + w


def longest_run_max(n_useful: ArrayLike) -> NDArray[np.float64]:
    """Return the Anhøj longest-run threshold round(log2(n)) + 3 (NaN when n is 0).

    ``np.round`` rounds halves to even like R; log2 of an integer is never exactly x.5.

    Examples
    --------
    >>> longest_run_max([10, 24, 100]).tolist()
    [6.0, 8.0, 10.0]
    """
    n = np.asarray(n_useful, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.round(np.log2(n)) + 3.0
    return np.where(n >= 1, out, np.nan)


def _binom_half_quantile(trials: int, p: float) -> int:
    """Smallest k with P(Binom(trials, 1/2) <= k) >= p, exactly (integer arithmetic)."""
    if trials <= 0:
        return 0
    if trials > 20_000:  # exact big integers get slow; log-space floats are ample here
        ks = np.arange(trials + 1, dtype=float)
        logpmf = (math.lgamma(trials + 1) - gammaln(ks + 1) - gammaln(trials - ks + 1)
                  - trials * math.log(2.0))
        return int(np.searchsorted(np.cumsum(np.exp(logpmf)), p - 1e-12, side="left"))
    frac = Fraction(p).limit_denominator(10**9)
    need = frac.numerator * (1 << trials)  # compare denominator * sum C(m, j) with p * 2^m
    total, term = 0, 1
    for k in range(trials + 1):
        total += term
        if total * frac.denominator >= need:
            return k
        term = term * (trials - k) // (k + 1)
    return trials


def crossings_quantile(n_useful: ArrayLike, p: float) -> NDArray[np.float64]:
    """Return qbinom(p, n - 1, 0.5) for each n (NaN when n is 0).

    Examples
    --------
    >>> crossings_quantile([10, 24, 100], 0.05).tolist()
    [2.0, 8.0, 41.0]
    """
    n = np.asarray(n_useful, dtype=float)
    out = np.full(n.shape, np.nan)
    ok = np.isfinite(n) & (n >= 1)
    if ok.any():
        uniq, inv = np.unique(n[ok].astype(np.int64), return_inverse=True)
        vals = np.array([_binom_half_quantile(int(u) - 1, p) for u in uniq], dtype=float)
        out[ok] = vals[inv]
    return out


def n_crossings_min(n_useful: ArrayLike) -> NDArray[np.float64]:
    """Return the Anhøj minimum number of crossings, qbinom(0.05, n - 1, 0.5).

    Examples
    --------
    >>> n_crossings_min([10, 12, 50]).tolist()
    [2.0, 3.0, 19.0]
    """
    return crossings_quantile(n_useful, 0.05)
