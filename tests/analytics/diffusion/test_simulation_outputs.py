"""Result objects: curves, bands, costs, Rogers categories, JSON and CSV."""

from __future__ import annotations

import csv
import io
import json

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spreadscale.analytics.diffusion import Scenario, from_networkx, layered_network, simulate

PUSH = {
    "horizon": 20,
    "outputs": {"sustained_steps": 5, "coverage_levels": [0.1, 0.99]},
    "push": {"facilitators": 1, "hours_per_facilitator": 4, "caseload": 8, "hours_per_site": 1,
             "cost_per_hour": 50, "cost_per_site": 100, "adoption_rate": 0.3, "dose_scale": 2,
             "waves": [{"step": 0, "size": 10}]},
    "adaptation": {"probability": 0.5, "fidelity": 0.6, "effect_floor": 0.5},
    "contagion": {"discontinuance": 0.05},
}


@pytest.fixture(scope="module")
def result():
    return simulate(Scenario.from_dict(PUSH), layered_network(40, seed=2), runs=30, seed=3)


def test_curves_have_one_point_per_step_including_step_zero(result):
    assert result.curves["adoption"].shape == (21, 30)
    assert result.steps[0] == 0 and result.steps[-1] == 20
    assert np.all(result.curves["ever"] >= result.curves["adoption"])


def test_bands_are_ordered(result):
    b = result.bands()
    assert np.all(b["p5"] <= b["p25"]) and np.all(b["p25"] <= b["p50"])
    assert np.all(b["p50"] <= b["p75"]) and np.all(b["p75"] <= b["p95"])


def test_facilitation_is_capped_by_capacity_and_costed(result):
    # 4 hours per step for 10 enrolled sites at most: never more than 4 x 20 hours in a run
    hours = result.runs["facilitator_hours"]
    assert np.all(hours <= 80 + 1e-9) and np.all(hours > 0)
    np.testing.assert_allclose(result.runs["cost"], hours * 50 + 10 * 100)
    adopted = result.runs["ever_adopted"]
    np.testing.assert_allclose(result.runs["cost_per_adopted"][adopted > 0],
                               (result.runs["cost"] / adopted)[adopted > 0])


def test_low_fidelity_adaptations_count_less_in_effective_coverage(result):
    assert np.all(result.curves["effective"] <= result.curves["adoption"] + 1e-12)
    assert result.curves["effective"][-1].mean() < result.curves["adoption"][-1].mean()


def test_sustained_and_abandoned_sites_are_subsets_of_adopters(result):
    assert np.all(result.runs["sustained"] <= result.runs["ever_adopted"])
    assert result.runs["abandoned"].sum() > 0
    assert np.all(result.runs["abandoned"] + np.round(result.runs["final_adoption"] * 40)
                  <= result.runs["ever_adopted"] + 1e-9)


def test_time_to_coverage_is_missing_when_never_reached(result):
    assert np.all(np.isnan(result.runs["time_to_99pct"]))
    assert result.summary()["time_to_99pct"]["share_reached"] == 0


def _broom() -> nx.Graph:
    """A hand-built network whose adoption steps are known: a cascade with probability 1 from
    site 0 reaches site i of the handle 0-1-2-3-4 at step i, the ten bristles b0..b9 of site 4 at
    step 5, t (tied to b0) at step 6 and u (tied to t) at step 7; z is isolated."""
    g = nx.path_graph(5)
    g.add_edges_from((4, f"b{i}") for i in range(10))
    g.add_edges_from([("b0", "t"), ("t", "u")])
    g.add_node("z")
    return g


def test_rogers_categories_are_standard_deviations_from_the_adopters_mean_time():
    # horizon 6: u and z never adopt. Adopters' steps 0,1,2,3,4,5 (x10),6: mean 4.125, sd 1.654,
    # so z = -2.49, -1.89, -1.29, -0.68, -0.08, +0.53 (x10), +1.13
    s = Scenario.from_dict({"horizon": 6, "initial": {"sites": ["0"]},
                            "contagion": {"cascade_probability": 1.0}})
    res = simulate(s, from_networkx(_broom()), runs=3, seed=1)
    category = {row["site"]: row["category"] for row in res.rogers_categories()}
    assert category["0"] == "innovators"
    assert category["1"] == category["2"] == "early adopters"
    assert category["3"] == category["4"] == "early majority"
    assert {category[f"b{i}"] for i in range(10)} == {"late majority"}
    assert category["t"] == "laggards"  # the latest adopters are laggards though 2 never adopt
    assert category["u"] == category["z"] == "not adopted"
    assert all(len(row["shares"]) == 1 for row in res.rogers_categories())  # every run alike


def test_rogers_category_boundaries_belong_to_the_category_nearer_the_mean():
    from spreadscale.analytics.diffusion.engine import NEVER, _rogers

    # steps 0, 0, 2, 2: mean 1, sd 1, every adopter exactly one sd from the mean
    assert _rogers(np.array([0, 0, 2, 2, NEVER])).tolist() == [2, 2, 3, 3, 5]
    # steps 1, 1, 1, 1, 4, 7, 7, 7, 7: mean 4 (early majority), sd 2.83
    assert _rogers(np.array([1, 1, 1, 1, 4, 7, 7, 7, 7])).tolist() == [1] * 4 + [2] + [4] * 4
    assert _rogers(np.array([4, 4, 4])).tolist() == [2, 2, 2]  # one step: no spread at all
    assert _rogers(np.array([NEVER, NEVER])).tolist() == [5, 5]


def test_rogers_shares_are_the_textbook_ones_when_adoption_times_are_normal():
    # Rogers' 2.5/13.5/34/34/16% are the normal shares beyond 2 and 1 sd (2.3/13.6/34.1/34.1/15.9)
    from spreadscale.analytics.diffusion.engine import NEVER, _rogers

    steps = np.round(np.random.default_rng(3).normal(500, 60, 40_000)).astype(np.int64)
    cat = _rogers(np.concatenate([steps, np.full(10_000, NEVER)]))
    shares = np.bincount(cat, minlength=6)[:5] / 40_000
    np.testing.assert_allclose(shares, [0.0228, 0.1359, 0.3413, 0.3413, 0.1587], atol=0.01)
    assert np.sum(cat == 5) == 10_000


def test_json_has_mean_adoption_at_the_top_level_and_the_scenario_with_its_hash(result):
    data = json.loads(result.to_json())
    assert len(data["mean_adoption"]) == 21
    as_run = Scenario.from_dict(PUSH).replace(runs=30, seed=3)  # the keyword overrides
    assert data["metadata"]["config_hash"] == as_run.config_hash(data["metadata"]["network_hash"])
    other = simulate(Scenario.from_dict(PUSH), layered_network(40, seed=3), runs=30, seed=3)
    assert len(data["metadata"]["network_hash"]) == 64
    assert other.metadata["network_hash"] != data["metadata"]["network_hash"]
    assert other.metadata["config_hash"] != data["metadata"]["config_hash"]
    assert Scenario.from_dict(data["metadata"]["scenario"]) == as_run
    assert set(data["curves"]["adoption"]) == {"mean", "p5", "p25", "p50", "p75", "p95"}
    assert data["runs"]["time_to_99pct"][0] is None  # NaN is written as null
    assert len(data["sites"]) == 40 and "category" in data["sites"][0]


@pytest.mark.parametrize("table,rows", [("curves", 21), ("runs", 30), ("sites", 40)])
def test_every_table_writes_as_csv(result, table, rows):
    parsed = list(csv.DictReader(io.StringIO(result.to_csv(table=table))))
    assert len(parsed) == rows


def test_a_scenario_where_nobody_adopts_summarises_without_warnings():
    s = Scenario.from_dict({"horizon": 3, "network": {"generator": "complete", "n": 10}})
    res = simulate(s, runs=2, seed=1)
    data = json.loads(res.to_json())
    assert data["summary"]["mean_adoption_step"]["mean"] is None
    assert data["summary"]["time_to_10pct"]["share_reached"] == 0


@settings(max_examples=40, deadline=None)
@given(q=st.floats(0, 2), p=st.floats(0, 0.2), discontinuance=st.floats(0, 0.5),
       readoption=st.floats(0, 2), waves=st.integers(0, 10), seed=st.integers(0, 2**32),
       sections=st.sets(st.sampled_from(["push", "adaptation", "contagion", "threshold",
                                         "cascade", "fatigue", "complete"])))
def test_curves_stay_consistent_whatever_the_parameters(q, p, discontinuance, readoption, waves,
                                                        seed, sections):
    data: dict = {"horizon": 8, "initial": {"count": 2}}
    if "push" in sections:
        data["push"] = {"waves": [{"step": 1, "size": waves}] if waves else []}
    if "adaptation" in sections:
        data["adaptation"] = {"probability": 0.5, "fidelity_drift": 0.1,
                              "adoption_multiplier": 2}
    if "contagion" in sections:
        data["contagion"] = {"p": p, "q": q, "discontinuance": discontinuance,
                             "readoption": readoption}
    if "threshold" in sections:
        data.setdefault("contagion", {})["threshold"] = {"low": 0.2, "high": 0.8}
    if "cascade" in sections:
        data.setdefault("contagion", {})["cascade_probability"] = 0.2
    if "fatigue" in sections:
        data.setdefault("contagion", {}).update(fatigue_growth=0.1, concurrent_initiatives=2)
    network = None if "complete" in sections else layered_network(30, seed=1)
    if network is None:
        data["network"] = {"generator": "complete", "n": 30}
    res = simulate(Scenario.from_dict(data), network, runs=3, seed=seed)
    c = res.curves
    assert np.all((c["adoption"] >= 0) & (c["adoption"] <= 1))
    assert np.all(np.diff(c["ever"], axis=0) >= 0)  # ever adopted never shrinks
    assert np.all(c["adoption"] + c["abandoned"] <= c["ever"] + 1e-9)
    assert np.all(c["effective"] <= c["adoption"] + 1e-9)
    assert np.all(res.runs["sustained"] <= res.runs["ever_adopted"])


def test_a_push_section_without_waves_costs_nothing():
    s = Scenario.from_dict({"horizon": 3, "network": {"generator": "complete", "n": 10},
                            "push": {}, "contagion": {"p": 0.1}})
    res = simulate(s, runs=2, seed=1)
    assert res.runs["cost"].tolist() == [0, 0]
    assert res.mean_adoption[-1] > 0


def test_the_config_hash_is_that_of_the_runs_and_seed_actually_used():
    s = Scenario.from_dict({"horizon": 3, "runs": 50, "seed": 1,
                            "network": {"generator": "complete", "n": 10},
                            "contagion": {"p": 0.1}})
    a = simulate(s, runs=4, seed=5).metadata
    b = simulate(s.replace(runs=4, seed=5)).metadata
    c = simulate(s, runs=4, seed=6).metadata
    assert a["config_hash"] == b["config_hash"] != c["config_hash"]
    assert a["scenario"]["runs"] == 4 and a["scenario"]["seed"] == 5


def test_the_config_hash_follows_the_network_content_not_its_path(tmp_path):
    hashes = []
    for folder, weight in (("one", 1), ("two", 1), ("three", 2)):
        d = tmp_path / folder
        d.mkdir()
        (d / "edges.csv").write_text(f"source,target,layer,weight\nA,B,peer,{weight}\n"
                                     "B,C,peer,1\n")
        (d / "s.toml").write_text("horizon = 3\n[network]\nedges = 'edges.csv'\n"
                                  "[contagion]\np = 0.1\n")
        res = simulate(Scenario.from_toml(d / "s.toml"), runs=2, seed=1)
        assert res.metadata["scenario"]["network"]["edges"] == str(d / "edges.csv")
        hashes.append(res.metadata["config_hash"])
    assert hashes[0] == hashes[1] != hashes[2]


def test_peak_step_is_missing_when_nobody_adopts_after_step_zero():
    s = Scenario.from_dict({"horizon": 5, "network": {"generator": "complete", "n": 10},
                            "initial": {"count": 2}})
    res = simulate(s, runs=3, seed=1)
    assert np.all(np.isnan(res.runs["peak_step"]))
    assert json.loads(res.to_json())["runs"]["peak_step"] == [None, None, None]
    assert res.summary()["peak_step"]["mean"] is None


def test_peak_step_is_the_step_with_most_first_adoptions():
    # a cascade with probability 1 on a path from one end: one new adopter per step, ties -> first
    g = nx.path_graph(4)
    s = Scenario.from_dict({"horizon": 6, "initial": {"sites": ["0"]},
                            "contagion": {"cascade_probability": 1.0}})
    res = simulate(s, from_networkx(g), runs=2, seed=1)
    assert res.runs["peak_step"].tolist() == [1.0, 1.0]


def test_the_cost_curve_accumulates_to_each_runs_cost(result):
    cost = result.curves["cost"]
    assert np.all(np.diff(cost, axis=0) >= 0)
    np.testing.assert_allclose(cost[-1], result.runs["cost"])
    np.testing.assert_allclose(cost[0], 10 * 100)  # the step-0 wave's enrolment fees, no hours
    hours_by_step = np.diff(cost, axis=0) / 50  # 50 per hour, no later waves
    assert np.all(hours_by_step <= 4 + 1e-9)  # 4 facilitator hours per step at most


def test_the_cost_curve_charges_enrolment_fees_at_each_waves_step():
    s = Scenario.from_dict({"horizon": 6, "network": {"generator": "complete", "n": 30},
                            "push": {"cost_per_site": 10, "cost_per_hour": 0,
                                     "waves": [{"step": 2, "size": 5}, {"step": 4, "size": 3}]}})
    res = simulate(s, runs=2, seed=1)
    assert res.curves["cost"][:, 0].tolist() == [0, 0, 50, 50, 80, 80, 80]
    assert "cost_mean" in res.to_csv(table="curves").splitlines()[0]
