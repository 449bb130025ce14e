"""Threshold models: the cascade/stall phase change and the reference scenario of simulation.md."""

from __future__ import annotations

import networkx as nx
import pytest

from spreadscale.analytics.diffusion import Scenario, from_networkx, load_scenario, simulate
from spreadscale.analytics.diffusion.network import generate
from spreadscale.analytics.diffusion.scenario import NetworkSpec


@pytest.fixture(scope="module")
def ba_graph():
    return generate(NetworkSpec(generator="barabasi_albert", n=10_000, m=3, seed=42))


def _thresholds(low: float, high: float) -> Scenario:
    return Scenario.from_dict({
        "horizon": 60, "initial": {"fraction": 0.01},
        "contagion": {"threshold": {"distribution": "uniform", "low": low, "high": high}}})


def test_thresholds_from_zero_to_half_saturate_the_graph(ba_graph):
    res = simulate(_thresholds(0.0, 0.5), ba_graph, runs=5, seed=1)
    assert res.bands()["p5"][-1] > 0.99


def test_thresholds_from_a_tenth_to_half_stall_at_a_few_percent_on_the_same_graph(ba_graph):
    res = simulate(_thresholds(0.1, 0.5), ba_graph, runs=5, seed=1)
    assert 0.01 < res.bands()["p95"][-1] < 0.08  # simulation.md: stalls at ~4%


def test_the_reference_scenario_reaches_the_published_mean_adoption(ba_graph):
    scenario = load_scenario("reference_threshold")
    res = simulate(scenario, ba_graph, runs=100, seed=1)
    assert res.mean_adoption[0] == pytest.approx(0.01)  # step 0 is the initial state
    assert 0.226 <= res.mean_adoption[50] <= 0.232
    assert res.mean_adoption[100] > 0.99


def test_complex_contagion_needs_two_adopting_contacts():
    # a path graph: one seed can never give any site two adopting neighbours
    s = Scenario.from_dict({"horizon": 10, "network": {"generator": "watts_strogatz", "n": 50,
                                                       "k": 2, "p": 0.0, "seed": 1},
                            "initial": {"sites": ["10"]},
                            "contagion": {"threshold": {"kind": "absolute",
                                                        "distribution": "fixed", "value": 2}}})
    assert simulate(s, runs=3, seed=1).mean_adoption[-1] == pytest.approx(1 / 50)
    s.initial.sites = ["10", "11"]  # two adjacent seeds on a ring lattice of degree 2: still stuck
    assert simulate(s, runs=3, seed=1).mean_adoption[-1] == pytest.approx(2 / 50)
    s.initial.sites = ["10", "12"]  # site 11 now sees two adopters and adopts
    assert simulate(s, runs=3, seed=1).mean_adoption[-1] == pytest.approx(3 / 50)


def test_isolated_sites_never_adopt_by_threshold_even_at_zero():
    g = nx.Graph([(0, 1)])
    g.add_node(2)  # isolated
    s = Scenario.from_dict({"horizon": 3, "initial": {"sites": ["0"]},
                            "contagion": {"threshold": {"distribution": "fixed", "value": 0.0}}})
    res = simulate(s, from_networkx(g), runs=2, seed=1)
    assert res.mean_adoption[-1] == pytest.approx(2 / 3)
