"""Calibration hooks: a Bass curve summary and an ABC-ready simulator.

Fitting the Bass closed form to an aggregate adoption curve (:func:`fit_bass`) *summarises* the
curve; it is not a calibration of the network model: when adoption really spreads over a network,
the fitted p and q are biased. Calibration proper compares simulated and observed site adoption
dates through summary statistics (:func:`make_simulator`, :func:`abc_rejection`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import curve_fit

from spreadscale.analytics.diffusion.engine import compile_model, run_batch
from spreadscale.analytics.diffusion.network import SiteNetwork, load_network
from spreadscale.analytics.diffusion.scenario import Scenario, ScenarioError


def bass_cdf(t: Any, p: float, q: float) -> np.ndarray:
    """Bass cumulative adoption F(t) = (1 − e^{−(p+q)t}) / (1 + (q/p)·e^{−(p+q)t}).

    Examples
    --------
    >>> round(float(bass_cdf(0.0, 0.03, 0.38)), 6), round(float(bass_cdf(100.0, 0.03, 0.38)), 6)
    (0.0, 1.0)
    """
    t = np.asarray(t, dtype=float)
    e = np.exp(-(p + q) * t)
    return (1 - e) / (1 + (q / p) * e)


@dataclass
class BassFit:
    """Fitted Bass parameters with standard errors; ``m`` is the market share reached (≤ 1)."""

    p: float
    q: float
    m: float
    stderr: tuple[float, float, float]

    @property
    def peak_time(self) -> float:
        """Time of the adoption peak, ln(q/p)/(p+q) (0 when q ≤ p)."""
        return max(0.0, float(np.log(self.q / self.p) / (self.p + self.q)))


def fit_bass(t: Sequence[float], adopted_share: Sequence[float], *,
             fit_market: bool = False) -> BassFit:
    """Least-squares fit of m·F(t; p, q) to a cumulative adoption share curve (scipy curve_fit).

    A summary of the curve's shape, not a calibration (see the module notes).

    Examples
    --------
    >>> t = np.arange(0, 20, 0.5)
    >>> fit = fit_bass(t, bass_cdf(t, 0.03, 0.38))
    >>> round(fit.p, 4), round(fit.q, 4)
    (0.03, 0.38)
    """
    t_arr = np.asarray(t, float)
    y = np.asarray(adopted_share, float)
    if t_arr.shape != y.shape or len(t_arr) < 3:
        raise ValueError("t and adopted_share need the same length, at least 3 points")

    if fit_market:
        def model(tt: np.ndarray, p: float, q: float, m: float) -> np.ndarray:
            return m * bass_cdf(tt, p, q)
        start, lower, upper = [0.01, 0.3, max(y.max(), 1e-3)], [1e-6, 0, 1e-6], [5, 50, 1]
    else:
        def model(tt: np.ndarray, p: float, q: float) -> np.ndarray:  # type: ignore[misc]
            return bass_cdf(tt, p, q)
        start, lower, upper = [0.01, 0.3], [1e-6, 0], [5, 50]
    popt, pcov = curve_fit(model, t_arr, y, p0=start, bounds=(lower, upper), maxfev=20000)
    err = np.sqrt(np.clip(np.diag(pcov), 0, None))
    m = float(popt[2]) if fit_market else 1.0
    return BassFit(float(popt[0]), float(popt[1]), m,
                   (float(err[0]), float(err[1]), float(err[2]) if fit_market else 0.0))


def adoption_steps(dates: Mapping[str, Any], start: Any, step_days: float,
                   sites: Sequence[str]) -> np.ndarray:
    """Observed first-adoption step per site (``-1`` = not adopted) from dates.

    Examples
    --------
    >>> from datetime import date
    >>> adoption_steps({"A": date(2024, 1, 15), "B": None}, date(2024, 1, 1), 7, ["A", "B"])
    array([ 2, -1])
    """
    out = np.full(len(sites), -1, dtype=np.int64)
    for i, sid in enumerate(sites):
        d = dates.get(sid)
        if d is not None:
            out[i] = int((d - start).days // step_days)
    return out


def curve_from_steps(steps: np.ndarray, horizon: int) -> np.ndarray:
    """Share of sites adopted by each step 0..horizon from first-adoption steps (-1 = never).

    Examples
    --------
    >>> curve_from_steps(np.array([0, 2, -1, 5]), 3).tolist()
    [0.25, 0.25, 0.5, 0.5]
    """
    steps = np.asarray(steps)
    adopted = steps[steps >= 0]
    return np.searchsorted(np.sort(adopted), np.arange(horizon + 1), side="right") / len(steps)


def summary_statistics(curve: np.ndarray, checkpoints: Sequence[int]) -> np.ndarray:
    """ABC summary: the cumulative adoption share at each checkpoint step.

    Examples
    --------
    >>> summary_statistics(np.array([0.0, 0.1, 0.3, 0.6]), [1, 3]).tolist()
    [0.1, 0.6]
    """
    return np.asarray(curve)[list(checkpoints)]


def _set(data: dict[str, Any], dotted: str, value: float) -> None:
    keys = dotted.split(".")
    for k in keys[:-1]:
        data = data.setdefault(k, {})
    data[keys[-1]] = value


def make_simulator(scenario: Scenario, parameters: Sequence[str], *,
                   network: SiteNetwork | None = None, checkpoints: Sequence[int] | None = None,
                   runs_per_draw: int = 1) -> Callable[[Sequence[float], int], np.ndarray]:
    """A function ``simulator(theta, seed) -> summary statistics`` for simulation-based calibration.

    ``parameters`` are dotted scenario keys (``"contagion.q"``) set from ``theta`` in order; the
    statistics are the mean cumulative ever-adopted share at ``checkpoints`` (default: steps at
    every tenth of the horizon), directly comparable with :func:`curve_from_steps` of observed
    adoption dates.

    Examples
    --------
    >>> s = Scenario.from_dict({"horizon": 20, "network": {"generator": "complete", "n": 50},
    ...                         "contagion": {"p": 0.01, "q": 0.3}})
    >>> sim = make_simulator(s, ["contagion.p", "contagion.q"], checkpoints=[10, 20])
    >>> stats = sim([0.05, 0.5], 1)
    >>> stats.shape, bool(stats[1] >= stats[0])
    ((2,), True)
    """
    net = network if network is not None else load_network(scenario.network)
    base = scenario.to_dict()
    marks = list(checkpoints) if checkpoints is not None else \
        sorted({round(scenario.horizon * k / 10) for k in range(1, 11)})

    def simulator(theta: Sequence[float], seed: int) -> np.ndarray:
        if len(theta) != len(parameters):
            raise ValueError(f"theta has {len(theta)} values for {len(parameters)} parameters")
        data = _deep_copy(base)
        for key, value in zip(parameters, theta, strict=True):
            _set(data, key, float(value))
        model = compile_model(Scenario.from_dict(data), net)
        out = run_batch(model, int(seed), 0, runs_per_draw)
        return summary_statistics(out.curves["ever"].mean(axis=1), marks)

    return simulator


def _deep_copy(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _deep_copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_deep_copy(v) for v in data]
    return data


@dataclass
class ABCResult:
    """Accepted parameter draws (rows) of a rejection ABC, with their distances."""

    parameters: list[str]
    accepted: np.ndarray
    distances: np.ndarray
    tolerance: float
    draws: int

    def posterior_summary(self) -> dict[str, dict[str, float]]:
        """Posterior mean and 5/50/95% quantiles of each parameter."""
        out = {}
        for i, name in enumerate(self.parameters):
            col = self.accepted[:, i]
            q5, q50, q95 = np.percentile(col, [5, 50, 95])
            out[name] = {"mean": float(col.mean()), "p5": float(q5), "p50": float(q50),
                         "p95": float(q95)}
        return out


def abc_rejection(simulator: Callable[[Sequence[float], int], np.ndarray],
                  observed: np.ndarray, prior: Mapping[str, tuple[float, float]], *,
                  draws: int = 1000, accept: float = 0.05, seed: Any = None) -> ABCResult:
    """Rejection ABC with independent uniform priors; keeps the closest ``accept`` share.

    Examples
    --------
    >>> sim = lambda theta, seed: np.array([theta[0] + 0.01 * np.random.default_rng(seed).normal()])
    >>> res = abc_rejection(sim, np.array([0.3]), {"x": (0.0, 1.0)}, draws=400, seed=2)
    >>> bool(abs(res.posterior_summary()["x"]["mean"] - 0.3) < 0.05)
    True
    """
    if not 0 < accept <= 1:
        raise ScenarioError(f"accept must be in (0, 1], got {accept}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    names = list(prior)
    lows = np.array([prior[k][0] for k in names], float)
    highs = np.array([prior[k][1] for k in names], float)
    thetas = rng.uniform(lows, highs, size=(draws, len(names)))
    seeds = rng.integers(0, 2**62, size=draws)
    obs = np.asarray(observed, float)
    dist = np.array([np.linalg.norm(simulator(th, int(sd)) - obs)
                     for th, sd in zip(thetas, seeds, strict=True)])
    keep = max(1, round(accept * draws))
    order = np.argsort(dist, kind="stable")[:keep]
    return ABCResult(names, thetas[order], dist[order], float(dist[order[-1]]), draws)


__all__ = ["ABCResult", "BassFit", "abc_rejection", "adoption_steps", "bass_cdf",
           "curve_from_steps", "fit_bass", "make_simulator", "summary_statistics"]
