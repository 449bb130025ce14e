"""Funnel plots across sites for proportions and rates (Spiegelhalter 2005)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
from numpy.typing import ArrayLike


@dataclass
class FunnelResult:
    """Funnel plot result: per-site arrays in ``sites`` and the overall figures."""

    chart: str
    target: float
    phi: float
    tau2: float
    overdispersion: str | None
    levels: tuple[float, ...]
    sites: dict[str, np.ndarray]

    def records(self) -> list[dict[str, Any]]:
        """One dict per site (NaN becomes None)."""
        keys = list(self.sites)
        rows = zip(*(self.sites[k].tolist() for k in keys), strict=True)
        return [{k: (None if isinstance(v, float) and v != v else v) for k, v in zip(keys, r,
                                                                                      strict=True)}
                for r in rows]


def funnel(
    events: ArrayLike,
    n: ArrayLike,
    *,
    group: ArrayLike | None = None,
    chart: str = "p",
    target: float | None = None,
    overdispersion: str | None = None,
    levels: Sequence[float] = (0.95, 0.998),
    winsor: float = 0.1,
) -> FunnelResult:
    """Place each site on a funnel plot of a proportion (``p``) or rate (``u``).

    Limits are ``target ± z · sd_i`` with ``sd_i = sqrt(target (1 - target) / n_i)`` for
    proportions and ``sqrt(target / n_i)`` for rates (normal approximation). With
    ``overdispersion`` the z-scores are winsorised (``winsor`` in each tail) to estimate
    ``phi = mean(z_w²)``; when ``phi · k > k - 1`` the limits widen, either
    multiplicatively (``sd_i · sqrt(phi)``) or additively with a random-effects variance
    ``tau² = (k·phi − (k − 1)) / (Σw − Σw²/Σw)``, ``w = 1/sd_i²`` (Spiegelhalter 2005).

    Parameters
    ----------
    events, n : array_like
        Numerator and denominator per site (n > 0).
    group : array_like, optional
        Site ids (default 0..k-1).
    chart : {"p", "u"}
        Proportion or rate.
    target : float, optional
        Benchmark; default the pooled sum(events) / sum(n).
    overdispersion : {None, "multiplicative", "additive"}
        Adjustment for overdispersion.
    levels : sequence of float
        Two-sided coverage of the limits; the widest gives ``signal``.
    winsor : float
        Fraction winsorised in each tail when estimating phi.

    Returns
    -------
    FunnelResult
        ``sites`` has group, events, n, y, z, z_adjusted, ``lower_<level>`` /
        ``upper_<level>`` (in percent, e.g. ``upper_95``, ``upper_99.8``), position
        (``within``, ``above_<level>``, ``below_<level>`` for the widest limit crossed)
        and signal (outside the widest limits).

    Examples
    --------
    >>> f = funnel([10, 12, 30, 9], [100, 110, 120, 95])
    >>> round(f.target, 4)
    0.1435
    >>> f.sites["position"].tolist()
    ['within', 'within', 'above_99.8', 'within']
    """
    ev = np.asarray(events, dtype=float)
    nn = np.asarray(n, dtype=float)
    if ev.shape != nn.shape:
        raise ValueError("events and n must have the same length")
    if (nn <= 0).any() or (ev < 0).any():
        raise ValueError("n must be positive and events non-negative")
    if chart == "p" and (ev > nn).any():
        raise ValueError("events above n for a proportion")
    if chart not in ("p", "u"):
        raise ValueError("chart must be 'p' or 'u'")
    k = ev.size
    grp = np.arange(k) if group is None else np.asarray(group)
    y = ev / nn
    t = float(ev.sum() / nn.sum()) if target is None else float(target)
    var = t * (1 - t) / nn if chart == "p" else t / nn
    sd = np.sqrt(var)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (y - t) / sd
    phi, tau2 = 1.0, 0.0
    scale = np.ones(k)
    if overdispersion is not None:
        if overdispersion not in ("multiplicative", "additive"):
            raise ValueError("overdispersion must be None, 'multiplicative' or 'additive'")
        lo, hi = np.quantile(z, [winsor, 1 - winsor])
        zw = np.clip(z, lo, hi)
        phi = float(np.mean(zw**2))
        if k * phi > k - 1:
            if overdispersion == "multiplicative":
                scale = np.full(k, np.sqrt(phi))
            else:
                w = 1 / var
                tau2 = max(0.0, (k * phi - (k - 1)) / (w.sum() - (w**2).sum() / w.sum()))
                scale = np.sqrt((var + tau2) / var)
        else:
            phi = 1.0 if overdispersion == "multiplicative" else phi
    sd_adj = sd * scale
    with np.errstate(divide="ignore", invalid="ignore"):  # a target of 0 or 1 has sd 0
        z_adj = (y - t) / sd_adj
    sites: dict[str, np.ndarray] = {"group": grp, "events": ev, "n": nn, "y": y, "z": z,
                                    "z_adjusted": z_adj}
    position = np.full(k, "within", dtype=object)
    for lev in sorted(levels):
        q = NormalDist().inv_cdf(0.5 + lev / 2)
        tag = f"{lev * 100:g}"
        lower = t - q * sd_adj
        upper = t + q * sd_adj
        sites[f"lower_{tag}"] = np.maximum(lower, 0.0)
        sites[f"upper_{tag}"] = np.minimum(upper, 1.0) if chart == "p" else upper
        position = np.where(y > upper, f"above_{tag}", np.where(y < lower, f"below_{tag}",
                                                                  position))
    qmax = NormalDist().inv_cdf(0.5 + max(levels) / 2)
    sites["position"] = position
    sites["signal"] = np.abs(z_adj) > qmax
    return FunnelResult(chart=chart, target=t, phi=phi, tau2=tau2, overdispersion=overdispersion,
                        levels=tuple(levels), sites=sites)
