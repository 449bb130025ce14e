"""Scenario and network validation: every problem reported, naming its key or row."""

from __future__ import annotations

import networkx as nx
import pytest

from spreadscale.analytics.diffusion import (
    Scenario,
    ScenarioError,
    compile_model,
    from_networkx,
    load_scenario,
    preset_names,
    read_network_csv,
)
from spreadscale.analytics.diffusion.network import generate
from spreadscale.analytics.diffusion.scenario import Contagion, NetworkSpec


def _problems(data: dict) -> list[str]:
    with pytest.raises(ScenarioError) as err:
        Scenario.from_dict(data)
    return err.value.problems


def test_it_rejects_unknown_keys_naming_the_full_key():
    problems = _problems({"horizon": 10, "contagion": {"q": 0.1, "qq": 2}, "colour": "red"})
    assert any(p.startswith("contagion.qq: unknown key") for p in problems)
    assert any(p.startswith("colour: unknown key") for p in problems)


def test_it_rejects_negative_rates():
    assert _problems({"contagion": {"p": -0.1}}) == ["contagion.p must be >= 0, got -0.1"]


def test_it_rejects_probabilities_above_one():
    problems = _problems({"adaptation": {"probability": 1.5},
                          "contagion": {"cascade_probability": 2}})
    assert "adaptation.probability must be <= 1, got 1.5" in problems
    assert "contagion.cascade_probability must be <= 1, got 2" in problems


def test_it_names_the_wave_in_a_list_of_waves():
    problems = _problems({"push": {"waves": [{"size": 3}, {"size": -1, "wen": 2}]}})
    assert "push.waves[1].wen: unknown key (allowed: eligible, select, size, step)" in problems
    assert "push.waves[1].size must be >= 0, got -1" in problems


def test_it_rejects_a_wave_larger_than_the_eligible_sites():
    s = Scenario.from_dict({"network": {"generator": "layered", "n": 30, "regions": 3},
                            "push": {"waves": [{"size": 5, "eligible": {"region": ["A"]}},
                                               {"size": 11, "eligible": {"region": ["A"]}},
                                               {"size": 6, "eligible": {"region": ["A"]}}]}})
    with pytest.raises(ScenarioError) as err:
        compile_model(s)
    assert err.value.problems == [
        "push.waves[1].size: 11 sites wanted but only 10 eligible",
        "push.waves[2].size: 6 sites wanted but only 0 of the 10 eligible are left by earlier "
        "waves",
    ]


def test_it_rejects_wrong_types_and_choices():
    problems = _problems({"horizon": "long", "contagion": {"threshold": {"kind": "relative"}}})
    assert "horizon must be a number, got 'long'" in problems
    assert any(p.startswith("contagion.threshold.kind must be one of") for p in problems)


def test_it_rejects_unknown_network_layers():
    problems = _problems({"contagion": {"layer_weights": {"friends": 1}}})
    assert problems[0].startswith("contagion.layer_weights.friends: unknown layer")


def test_it_rejects_an_edge_list_with_site_ids_missing_from_the_sites_file(tmp_path):
    (tmp_path / "sites.csv").write_text("id,region\nA,north\nB,north\n")
    (tmp_path / "edges.csv").write_text(
        "source,target,layer,weight\nA,B,peer,1\nA,Z,learns-from,1\nB,A,gossip,-2\n")
    with pytest.raises(ScenarioError) as err:
        read_network_csv(tmp_path / "edges.csv", tmp_path / "sites.csv")
    assert err.value.problems == [
        "edges.csv row 3: unknown site id 'Z' in target (not in sites.csv)",
        "edges.csv row 4: unknown layer 'gossip' (allowed: learns-from, reports-to, peer)",
        "edges.csv row 4: weight must be a number >= 0, got '-2'",
    ]


def test_python_objects_are_validated_like_toml():
    with pytest.raises(ScenarioError, match="q must be >= 0"):
        Contagion(q=-1)


def test_scenarios_round_trip_through_plain_data():
    for name in preset_names():
        s = load_scenario(name)
        again = Scenario.from_dict(s.to_dict())
        assert again == s
        assert again.config_hash() == s.config_hash()


def test_the_config_hash_changes_with_any_parameter():
    a = Scenario.from_dict({"contagion": {"q": 0.1}})
    b = Scenario.from_dict({"contagion": {"q": 0.1000001}})
    assert a.config_hash() != b.config_hash()


@pytest.mark.parametrize("network,message", [
    ({"generator": "watts_strogatz", "n": 10, "k": 20},
     "network.k must be smaller than n (10) for 'watts_strogatz', got 20"),
    ({"generator": "watts_strogatz", "n": 10, "k": 1},
     "network.k must be at least 2 for 'watts_strogatz' (k // 2 neighbours on each side of the "
     "ring), got 1"),
    ({"generator": "barabasi_albert", "n": 5, "m": 5},
     "network.m must be smaller than n (5) for 'barabasi_albert', got 5"),
    ({"generator": "layered", "n": 4, "regions": 5},
     "network.regions must be at most n (4) for 'layered' (every region needs a site), got 5"),
    ({"generator": "complete"}, "network.n must be at least 2 for generator 'complete', got 0"),
    ({"generator": "erdos_renyi", "n": 1, "p": 0.5},
     "network.n must be at least 2 for generator 'erdos_renyi', got 1"),
    ({"seed": -1}, "network.seed must be >= 0, got -1"),
])
def test_generator_parameters_are_checked_with_the_scenario(network, message):
    assert _problems({"network": network}) == [message]


def test_a_negative_base_seed_is_rejected_with_the_scenario():
    assert _problems({"seed": -3}) == ["seed must be >= 0, got -3"]


def test_a_scenario_without_any_network_asks_for_one():
    s = Scenario.from_dict({"network": {"n": 10}, "contagion": {"p": 0.1}})
    with pytest.raises(ScenarioError) as err:
        compile_model(s)
    assert err.value.problems == ["network: give network.generator (with its parameters), "
                                  "network.edges or --network FILE"]


def test_networkx_errors_from_parameters_changed_after_validation_are_scenario_errors():
    spec = NetworkSpec(generator="watts_strogatz", n=10, k=4)
    spec.k = 20
    with pytest.raises(ScenarioError, match="generator 'watts_strogatz': k>n"):
        generate(spec)


def test_an_edge_list_without_rows_is_a_network_without_sites(tmp_path):
    (tmp_path / "empty.csv").write_text("source,target,layer,weight\n")
    with pytest.raises(ScenarioError) as err:
        read_network_csv(tmp_path / "empty.csv")
    assert err.value.problems == ["empty.csv: no edges (and no sites listed): the network has no "
                                  "sites"]


def test_a_network_with_no_sites_is_refused_by_compile_model():
    with pytest.raises(ScenarioError, match="network: it has no sites"):
        compile_model(Scenario.from_dict({"contagion": {"p": 0.1}}), from_networkx(nx.Graph()))


def test_sites_without_edges_are_a_valid_network(tmp_path):
    (tmp_path / "sites.csv").write_text("id\nA\nB\n")
    (tmp_path / "edges.csv").write_text("source,target\n")
    assert read_network_csv(tmp_path / "edges.csv", tmp_path / "sites.csv").ids == ["A", "B"]
