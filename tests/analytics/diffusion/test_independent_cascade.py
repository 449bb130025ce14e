"""Independent cascade: expected spread against exact enumeration of live-edge subgraphs."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np

from spreadscale.analytics.diffusion import Scenario, from_networkx, simulate

P_EDGE = 0.3


def _exact_expected_spread(graph: nx.Graph, seed: int, p: float) -> float:
    """Kempe et al.: spread = E[#sites reachable from the seed in the random live-arc graph]."""
    arcs = [(u, v) for u, v in graph.edges] + [(v, u) for u, v in graph.edges]
    total = 0.0
    for live in itertools.product((False, True), repeat=len(arcs)):
        kept = [a for a, on in zip(arcs, live, strict=True) if on]
        weight = p ** len(kept) * (1 - p) ** (len(arcs) - len(kept))
        g = nx.DiGraph(kept)
        g.add_nodes_from(graph)
        total += weight * (1 + len(nx.descendants(g, seed)))
    return total


def test_independent_cascade_expected_spread_matches_exact_enumeration():
    graph = nx.Graph([(0, 1), (1, 2), (2, 0), (2, 3), (3, 4), (1, 4)])  # 6 edges, 12 arcs
    exact = _exact_expected_spread(graph, 0, P_EDGE)
    s = Scenario.from_dict({"horizon": 6, "initial": {"sites": ["0"]},
                            "contagion": {"cascade_probability": P_EDGE}})
    runs = 4000
    res = simulate(s, from_networkx(graph), runs=runs, seed=11)
    spread = res.runs["ever_adopted"]
    se = spread.std(ddof=1) / np.sqrt(runs)
    assert abs(spread.mean() - exact) < 4 * se  # Monte Carlo error only: the model is exact
