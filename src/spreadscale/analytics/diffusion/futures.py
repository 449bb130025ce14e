"""Comparing futures on common random numbers, and choosing which sites to start with.

Run r of every scenario uses the same seed stream ``SeedSequence([seed, r])``, so differences
between scenarios are paired per run: their spread is much smaller than that of either ensemble.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from spreadscale.analytics.diffusion.engine import Model, compile_model, resolve_seed, run_model
from spreadscale.analytics.diffusion.network import SiteNetwork, load_network
from spreadscale.analytics.diffusion.results import SimulationResult, band
from spreadscale.analytics.diffusion.scenario import NetworkSpec, Scenario, ScenarioError

METRICS = ("final_adoption", "ever_adopted", "sustained", "abandoned", "effective_coverage",
           "facilitator_hours", "cost")


@dataclass
class Comparison:
    """Results per scenario and paired differences against the baseline."""

    baseline: str
    results: dict[str, SimulationResult]

    def differences(self, metric: str = "final_adoption") -> dict[str, dict[str, Any]]:
        """Per scenario: paired run differences (scenario − baseline) with mean, bands and SE."""
        base = self.results[self.baseline].runs[metric]
        out = {}
        for name, res in self.results.items():
            if name == self.baseline:
                continue
            diff = res.runs[metric] - base
            summary = band(diff)
            summary["se"] = float(np.nanstd(diff, ddof=1) / np.sqrt(np.sum(np.isfinite(diff)))) \
                if len(diff) > 1 else float("nan")
            out[name] = summary
        return out

    def curve_difference(self, name: str, curve: str = "adoption") -> dict[str, np.ndarray]:
        """Mean and bands per step of the paired difference of a curve (name − baseline)."""
        diff = self.results[name].curves[curve] - self.results[self.baseline].curves[curve]
        return band(diff, axis=1)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: each scenario's summary and the paired differences of every metric."""
        return {
            "baseline": self.baseline,
            "scenarios": {k: r.summary() for k, r in self.results.items()},
            "differences": {m: self.differences(m) for m in METRICS},
        }


def compare_futures(scenarios: Mapping[str, Scenario], network: SiteNetwork | None = None, *,
                    runs: int = 100, seed: Any = None, baseline: str | None = None,
                    executor: Executor | None = None) -> Comparison:
    """Simulate several scenarios on the same seeds (common random numbers).

    With ``network`` given, every scenario runs on it. Otherwise each scenario runs on the
    network its own ``[network]`` section describes (identical sections are built once), so
    futures may differ in their network too; each result's ``metadata["network_hash"]`` says
    which network it ran on. Run r of every scenario uses ``SeedSequence([seed, r])``.

    Examples
    --------
    >>> base = Scenario.from_dict({"horizon": 10, "network": {"generator": "complete", "n": 100},
    ...                            "contagion": {"p": 0.01, "q": 0.3}})
    >>> more = base.replace(contagion=dataclasses.replace(base.contagion, q=0.6))
    >>> cmp = compare_futures({"now": base, "more talk": more}, runs=20, seed=3)
    >>> bool(cmp.differences("final_adoption")["more talk"]["mean"] > 0)
    True
    """
    if not scenarios:
        raise ScenarioError("compare_futures needs at least one scenario")
    base_seed = resolve_seed(seed)
    built: list[tuple[NetworkSpec, SiteNetwork]] = []

    def network_of(s: Scenario) -> SiteNetwork:
        if network is not None:
            return network
        for spec, net in built:
            if spec == s.network:
                return net
        net = load_network(s.network)
        built.append((s.network, net))
        return net

    results = {name: run_model(compile_model(s, network_of(s)), runs=runs, seed=base_seed,
                               executor=executor)
               for name, s in scenarios.items()}
    return Comparison(baseline or next(iter(scenarios)), results)


@dataclass
class SeedRanking:
    """Greedy seed order with marginal gains, and the heuristics' expected spread per k."""

    order: list[str]
    gains: list[float]
    spread: dict[str, list[float]]  # method -> expected metric for the first 1..k seeds

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return dataclasses.asdict(self)


def rank_seed_sites(scenario: Scenario, network: SiteNetwork | None = None, *, k: int = 5,
                    candidates: Sequence[str] | None = None, runs: int = 50, seed: Any = None,
                    metric: str = "ever_adopted", executor: Executor | None = None) -> SeedRanking:
    """Rank candidate seed sites by greedy marginal gain in the expected ``metric`` at the horizon.

    The scenario's own initial adopters stay in place; chosen sites are added to them. Every
    evaluation uses the same seeds (common random numbers), so gains are paired comparisons.
    The greedy set is compared with the top-k by degree, betweenness and opinion-leader flag.
    Candidates default to all sites in networks of up to 200 sites, otherwise the 50 of highest
    degree plus the opinion leaders. Kempe et al.: for submodular spread (independent cascade,
    linear threshold) greedy is within 1 − 1/e of the best k-set.

    Examples
    --------
    >>> s = Scenario.from_dict({"horizon": 5, "network": {"generator": "barabasi_albert",
    ...     "n": 60, "m": 2, "seed": 1}, "contagion": {"cascade_probability": 0.2}})
    >>> r = rank_seed_sites(s, k=2, runs=20, seed=1)
    >>> len(r.order), sorted(r.spread)
    (2, ['betweenness', 'degree', 'greedy', 'opinion_leader'])
    """
    net = network if network is not None else load_network(scenario.network)
    model = compile_model(scenario, net)
    base_seed = resolve_seed(seed)
    graph = net.to_networkx()
    degree = np.array([d for _, d in sorted(graph.degree)], dtype=float)
    if candidates is None:
        if net.n <= 200:
            cand = list(range(net.n))
        else:
            top = np.argsort(-degree, kind="stable")[:50].tolist()
            cand = sorted(set(top) | set(np.flatnonzero(net.opinion_leader).tolist()))
    else:
        unknown = [c for c in candidates if c not in net.index]
        if unknown:
            raise ScenarioError(f"candidates: unknown site id(s) {', '.join(map(repr, unknown))}")
        cand = [net.index[c] for c in candidates]
    k = min(k, len(cand))

    def expected(extra: list[int]) -> float:
        fixed = np.unique(np.concatenate([model.fixed_initial, np.array(extra, dtype=np.int64)]))
        m = dataclasses.replace(model, fixed_initial=fixed)
        res = _quick_run(m, runs, base_seed, executor)
        return float(np.mean(res.runs[metric]))

    chosen: list[int] = []
    gains: list[float] = []
    greedy_spread: list[float] = []
    current = expected([])
    for _ in range(k):
        scores = {c: expected([*chosen, c]) for c in cand if c not in chosen}
        best = max(scores, key=lambda c: (scores[c], -c))
        chosen.append(best)
        gains.append(scores[best] - current)
        current = scores[best]
        greedy_spread.append(current)
    sample = min(net.n, 500)
    betweenness = nx.betweenness_centrality(graph, k=sample if sample < net.n else None,
                                            seed=base_seed % (2**32))
    btw = np.array([betweenness[i] for i in range(net.n)])
    heuristics = {
        "degree": np.argsort(-degree, kind="stable"),
        "betweenness": np.argsort(-btw, kind="stable"),
        "opinion_leader": np.lexsort((-degree, ~net.opinion_leader)),
    }
    spread = {"greedy": greedy_spread}
    for name, order in heuristics.items():
        top = order[:k].tolist()
        spread[name] = [expected(top[: i + 1]) for i in range(k)]
    return SeedRanking([net.ids[i] for i in chosen], gains, spread)


def _quick_run(model: Model, runs: int, seed: int, executor: Executor | None) -> SimulationResult:
    return run_model(model, runs=runs, seed=seed, executor=executor)
