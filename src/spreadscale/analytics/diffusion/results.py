"""Ensemble results: curves with bands, per-run summaries, per-site labels; JSON and CSV out."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from spreadscale.analytics.diffusion.engine import Model

QUANTILES = (5, 25, 50, 75, 95)
ROGERS = ("innovators", "early adopters", "early majority", "late majority", "laggards",
          "not adopted")
STEP_CONVENTION = ("step 0 is the initial state; step t is the state after t synchronous "
                   "updates; curves have horizon + 1 points")


@dataclass
class BatchOutput:
    """What one batch of runs sends back (runs are columns / entries in run order)."""

    curves: dict[str, np.ndarray]  # name -> (steps, runs)
    runs: dict[str, np.ndarray]  # name -> (runs,)
    site_ever: np.ndarray  # (sites,) runs in which the site ever adopted
    site_sustained: np.ndarray  # (sites,)
    rogers: np.ndarray  # (sites, 6) runs per category


def merge_batches(outputs: list[BatchOutput], model: Model, base_seed: int) -> SimulationResult:
    """Concatenate batches in run order into one :class:`SimulationResult`."""
    # the scenario as run: CLI or keyword overrides of runs and seed included
    s = dataclasses.replace(model.scenario, runs=_n_runs(outputs), seed=base_seed)
    curves = {k: np.concatenate([o.curves[k] for o in outputs], axis=1)
              for k in outputs[0].curves}
    runs = {k: np.concatenate([o.runs[k] for o in outputs]) for k in outputs[0].runs}
    n_runs = curves["adoption"].shape[1]
    for level in s.outputs.coverage_levels:
        reached = curves["adoption"] >= level - 1e-12
        first = np.argmax(reached, axis=0).astype(float)
        first[~reached.any(axis=0)] = np.nan
        runs[f"time_to_{_pct(level)}"] = first * s.step
    with np.errstate(divide="ignore", invalid="ignore"):
        runs["cost_per_adopted"] = np.where(runs["ever_adopted"] > 0,
                                            runs["cost"] / runs["ever_adopted"], np.nan)
        runs["cost_per_sustained"] = np.where(runs["sustained"] > 0,
                                              runs["cost"] / runs["sustained"], np.nan)
    meta = {
        "scenario": s.to_dict(),
        "config_hash": s.config_hash(model.network_hash),
        "network_hash": model.network_hash,
        "seed": base_seed,
        "runs": n_runs,
        "sites": model.n,
        "horizon": s.horizon,
        "step": s.step,
        "time_unit": s.time_unit,
        "step_convention": STEP_CONVENTION,
        "seeding": "run r uses numpy SeedSequence([seed, r]); batches are unions of runs",
    }
    return SimulationResult(
        metadata=meta, curves=curves, runs=runs, site_ids=list(model.ids),
        site_ever=np.sum([o.site_ever for o in outputs], axis=0) / n_runs,
        site_sustained=np.sum([o.site_sustained for o in outputs], axis=0) / n_runs,
        rogers=np.sum([o.rogers for o in outputs], axis=0))


def _n_runs(outputs: list[BatchOutput]) -> int:
    """Number of runs in a list of batches."""
    return sum(o.curves["adoption"].shape[1] for o in outputs)


def _pct(level: float) -> str:
    return f"{level * 100:g}pct"


def _clean(x: Any) -> Any:
    """JSON-safe floats (NaN -> None), rounded to 6 significant digits to keep files small."""
    if isinstance(x, float | np.floating):
        return None if not math.isfinite(x) else float(f"{x:.6g}")
    return x


def band(values: np.ndarray, axis: int = -1) -> dict[str, Any]:
    """Mean and 5/25/50/75/95% quantiles over ``axis`` (NaN entries ignored).

    Examples
    --------
    >>> b = band(np.arange(101.0))
    >>> b["mean"], b["p5"], b["p95"]
    (50.0, 5.0, 95.0)
    """
    with np.errstate(invalid="ignore"), _quiet():
        mean = np.nanmean(values, axis=axis)
        qs = np.nanpercentile(values, QUANTILES, axis=axis)
    out: dict[str, Any] = {"mean": mean}
    for q, v in zip(QUANTILES, qs, strict=True):
        out[f"p{q}"] = v
    if np.ndim(mean) == 0:
        return {k: _clean(float(v)) for k, v in out.items()}
    return out


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence numpy's all-NaN slice warnings (a coverage never reached is a valid outcome)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


@dataclass
class SimulationResult:
    """An ensemble's outputs. ``curves[name]`` is (steps, runs); ``runs[name]`` is (runs,).

    Examples
    --------
    >>> from spreadscale.analytics.diffusion import Scenario, simulate
    >>> res = simulate(Scenario.from_dict({"horizon": 5, "initial": {"count": 2},
    ...     "network": {"generator": "complete", "n": 50}, "contagion": {"q": 0.8}}),
    ...     runs=10, seed=4)
    >>> sorted(res.bands())
    ['mean', 'p25', 'p5', 'p50', 'p75', 'p95']
    >>> res.to_csv(table="curves").splitlines()[1].split(",")[:3]
    ['0', '0.0', '0.04']
    >>> res.to_dict()["metadata"]["runs"]
    10
    """

    metadata: dict[str, Any]
    curves: dict[str, np.ndarray]
    runs: dict[str, np.ndarray]
    site_ids: list[str]
    site_ever: np.ndarray
    site_sustained: np.ndarray
    rogers: np.ndarray

    @property
    def steps(self) -> np.ndarray:
        """Step indices 0..horizon."""
        return np.arange(self.curves["adoption"].shape[0])

    @property
    def time(self) -> np.ndarray:
        """Time of each step in the scenario's time unit."""
        return self.steps * self.metadata["step"]

    @property
    def mean_adoption(self) -> np.ndarray:
        """Mean share of sites currently adopted, per step."""
        return self.curves["adoption"].mean(axis=1)

    def bands(self, curve: str = "adoption") -> dict[str, np.ndarray]:
        """Mean and 5/25/50/75/95% bands of a curve per step."""
        return band(self.curves[curve], axis=1)

    def rogers_categories(self) -> list[dict[str, Any]]:
        """Per site: the most frequent Rogers category over runs and each category's share."""
        shares = self.rogers / self.rogers.sum(axis=1, keepdims=True)
        modal = np.argmax(self.rogers, axis=1)
        return [{"site": sid, "category": ROGERS[modal[i]],
                 "shares": {ROGERS[k]: _clean(float(shares[i, k])) for k in range(6)
                            if shares[i, k] > 0}}
                for i, sid in enumerate(self.site_ids)]

    def summary(self) -> dict[str, Any]:
        """Headline figures: each per-run statistic's mean and 5–95% bands."""
        out = {k: band(v) for k, v in self.runs.items()}
        for k, v in self.runs.items():
            if k.startswith("time_to_"):
                out[k]["share_reached"] = _clean(float(np.mean(np.isfinite(v))))
        return out

    def to_dict(self, *, per_site: bool = True) -> dict[str, Any]:
        """JSON-ready data: ``mean_adoption`` per step at the top level, bands, summaries."""
        curves = {}
        for name in self.curves:
            curves[name] = {k: [_clean(x) for x in v] for k, v in self.bands(name).items()}
        data: dict[str, Any] = {
            "mean_adoption": [_clean(x) for x in self.mean_adoption],
            "steps": self.steps.tolist(),
            "time": [_clean(x) for x in self.time],
            "curves": curves,
            "summary": self.summary(),
            "runs": {k: [_clean(x) for x in v] for k, v in self.runs.items()},
            "metadata": self.metadata,
        }
        if per_site:
            data["sites"] = [
                {**r, "p_adopted": _clean(float(self.site_ever[i])),
                 "p_sustained": _clean(float(self.site_sustained[i]))}
                for i, r in enumerate(self.rogers_categories())]
        return data

    def to_json(self, path: str | Path | None = None, **kwargs: Any) -> str:
        """Serialise :meth:`to_dict` to JSON (and write it to ``path`` when given)."""
        text = json.dumps(self.to_dict(**kwargs), indent=1)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_csv(self, path: str | Path | None = None, table: str = "curves") -> str:
        """CSV of one table: ``curves`` (per step), ``runs`` (per run) or ``sites`` (per site)."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        if table == "curves":
            names = list(self.curves)
            bands = {name: self.bands(name) for name in names}
            header = ["step", "time"] + [f"{name}_{k}" for name in names for k in bands[name]]
            w.writerow(header)
            for t in self.steps:
                w.writerow([int(t), _clean(self.time[t])] + [
                    _clean(bands[name][k][t]) for name in names for k in bands[name]])
        elif table == "runs":
            names = list(self.runs)
            w.writerow(["run", *names])
            for r in range(len(self.runs[names[0]])):
                w.writerow([r] + ["" if _clean(self.runs[k][r]) is None else _clean(self.runs[k][r])
                                  for k in names])
        elif table == "sites":
            w.writerow(["site", "rogers_category", "p_adopted", "p_sustained"])
            for i, row in enumerate(self.rogers_categories()):
                w.writerow([row["site"], row["category"], _clean(float(self.site_ever[i])),
                            _clean(float(self.site_sustained[i]))])
        else:
            raise ValueError(f"table must be 'curves', 'runs' or 'sites', got {table!r}")
        text = buf.getvalue()
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text
