"""Comparing futures on common random numbers; greedy seed-site ranking."""

from __future__ import annotations

import dataclasses

import networkx as nx
import numpy as np

from spreadscale.analytics.diffusion import (
    Scenario,
    compare_futures,
    from_networkx,
    rank_seed_sites,
    simulate,
)

BASE = {"horizon": 15, "network": {"generator": "barabasi_albert", "n": 300, "m": 2, "seed": 3},
        "initial": {"count": 3}, "contagion": {"p": 0.002, "q": 0.2}}


def test_each_future_is_the_ensemble_it_would_be_on_its_own():
    base = Scenario.from_dict(BASE)
    cmp = compare_futures({"base": base}, runs=10, seed=4)
    alone = simulate(base, runs=10, seed=4)
    np.testing.assert_array_equal(cmp.results["base"].curves["adoption"], alone.curves["adoption"])


def test_paired_differences_are_tighter_than_the_ensembles_they_compare():
    base = Scenario.from_dict(BASE)
    louder = base.replace(contagion=dataclasses.replace(base.contagion, q=0.25))
    cmp = compare_futures({"base": base, "louder": louder}, runs=60, seed=8)
    diff = cmp.differences("final_adoption")["louder"]
    assert diff["mean"] > 0
    assert diff["p95"] - diff["p5"] < np.ptp(np.percentile(
        cmp.results["base"].runs["final_adoption"], [5, 95]))
    assert 0 < diff["se"] < diff["mean"]
    assert set(cmp.to_dict()["differences"]) >= {"final_adoption", "cost"}


def test_greedy_seeding_picks_the_hubs_of_two_stars_first():
    # two stars joined by a path: the centres are the obvious seeds for a cascade
    g = nx.star_graph(12)
    h = nx.relabel_nodes(nx.star_graph(12), {i: i + 100 for i in range(13)})
    g = nx.union(g, h)
    g.add_edges_from([(5, 50), (50, 105)])
    s = Scenario.from_dict({"horizon": 4, "contagion": {"cascade_probability": 0.6}})
    ranking = rank_seed_sites(s, from_networkx(g), k=2, runs=200, seed=1)
    assert set(ranking.order) == {"0", "100"}
    assert ranking.gains[0] >= ranking.gains[1] > 0  # diminishing returns (submodularity)
    assert ranking.spread["greedy"][-1] >= max(v[-1] for v in ranking.spread.values()) - 1e-9


def test_each_future_runs_on_the_network_its_own_scenario_describes():
    base = Scenario.from_dict(BASE)
    other_net = Scenario.from_dict({**BASE, "network": {**BASE["network"], "seed": 4}})
    cmp = compare_futures({"base": base, "other": other_net, "again": base}, runs=10, seed=4)
    for name, s in (("base", base), ("other", other_net)):
        alone = simulate(s, runs=10, seed=4)
        assert cmp.results[name].metadata["network_hash"] == alone.metadata["network_hash"]
        np.testing.assert_array_equal(cmp.results[name].curves["adoption"],
                                      alone.curves["adoption"])
    hashes = {k: r.metadata["network_hash"] for k, r in cmp.results.items()}
    assert hashes["base"] == hashes["again"] != hashes["other"]


def test_a_network_given_to_compare_futures_is_used_for_every_scenario():
    base = Scenario.from_dict(BASE)
    other_net = Scenario.from_dict({**BASE, "network": {**BASE["network"], "seed": 4}})
    net = from_networkx(nx.barabasi_albert_graph(300, 2, seed=9))
    cmp = compare_futures({"base": base, "other": other_net}, net, runs=5, seed=4)
    assert cmp.results["base"].metadata["network_hash"] == \
        cmp.results["other"].metadata["network_hash"]
