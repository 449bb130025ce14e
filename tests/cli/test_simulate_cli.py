"""``spreadscale simulate``: presets, files, outputs, executors and clean errors."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from spreadscale.cli import main

SMALL = """
name = "small"
horizon = 12
runs = 6
seed = 3

[network]
generator = "layered"
n = 60
seed = 1

[initial]
fraction = 0.05

[push]
[[push.waves]]
step = 0
size = 5
eligible = { region = ["B"] }

[contagion]
p = 0.01
q = 0.3
"""


def _run(*args: str):
    return CliRunner().invoke(main, ["simulate", *args])


@pytest.fixture
def small(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    return path


def test_it_runs_a_preset_by_name_and_writes_json(tmp_path):
    out = tmp_path / "bass.json"
    result = _run("bass", "--runs", "5", "--seed", "2", "--out", str(out))
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert len(data["mean_adoption"]) == 81  # 80 steps plus step 0
    assert data["metadata"]["runs"] == 5 and data["metadata"]["seed"] == 2
    assert "adoption at the horizon" in result.stdout


def test_it_writes_curves_as_csv_and_an_svg_chart(small, tmp_path):
    result = _run(str(small), "--out", str(tmp_path / "c.csv"),
                  "--chart", str(tmp_path / "a.svg"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "c.csv").read_text().startswith("step,time,adoption_mean")
    assert (tmp_path / "a.svg").read_text().lstrip().startswith("<svg")


def test_it_shows_progress_on_stderr(small):
    result = _run(str(small))
    assert "Simulating" in result.stderr
    assert "Simulating" not in result.stdout


def test_json_can_go_to_stdout_with_the_summary_on_stderr(small):
    result = _run(str(small), "--out", "-")
    assert json.loads(result.stdout)["metadata"]["scenario"]["name"] == "small"
    assert "config hash" in result.stderr


def test_worker_processes_and_a_dask_cluster_give_the_in_process_results(small, tmp_path):
    from distributed import LocalCluster  # the [dask] extra

    _run(str(small), "--out", str(tmp_path / "a.json"), "--batch-size", "6")
    _run(str(small), "--out", str(tmp_path / "b.json"), "--workers", "2", "--batch-size", "2")
    with LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster:
        result = _run(str(small), "--out", str(tmp_path / "c.json"), "--batch-size", "4",
                      "--dask", cluster.scheduler_address)
    assert result.exit_code == 0, result.output
    a, b, c = (json.loads((tmp_path / f"{x}.json").read_text()) for x in "abc")
    assert a == b == c


def test_it_uses_an_edge_list_given_with_network(tmp_path, small):
    (tmp_path / "edges.csv").write_text("source,target,layer,weight\nA,B,peer,1\nB,C,peer,1\n")
    (tmp_path / "s.toml").write_text("horizon = 3\nruns = 2\n[initial]\nsites = ['A']\n"
                                     "[contagion]\ncascade_probability = 1.0\n")
    result = _run(str(tmp_path / "s.toml"), "--network", str(tmp_path / "edges.csv"),
                  "--out", "-")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["mean_adoption"] == pytest.approx([1 / 3, 2 / 3, 1, 1], abs=1e-6)


@pytest.mark.parametrize("toml,message", [
    ("horizon = 5\n[contagion]\nqq = 1\n", "Error: contagion.qq: unknown key"),
    ("horizon = 5\n[contagion]\np = -0.5\n", "Error: contagion.p must be >= 0, got -0.5"),
    ("[adaptation]\nprobability = 1.2\n", "Error: adaptation.probability must be <= 1, got 1.2"),
    ("[network]\ngenerator = 'layered'\nn = 30\n[push]\n[[push.waves]]\nsize = 40\n",
     "Error: push.waves[0].size: 40 sites wanted but only 30 eligible"),
    ("horizon = [\n", "not valid TOML"),
])
def test_scenario_errors_exit_2_naming_the_key_without_a_traceback(tmp_path, toml, message):
    (tmp_path / "bad.toml").write_text(toml)
    result = _run(str(tmp_path / "bad.toml"))
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_a_network_with_unknown_site_ids_exits_2_naming_the_row(tmp_path, small):
    (tmp_path / "sites.csv").write_text("id,region\nA,north\nB,north\n")
    (tmp_path / "edges.csv").write_text("source,target,layer,weight\nA,B,peer,1\nB,Q,peer,1\n")
    result = _run(str(small), "--network", str(tmp_path / "edges.csv"),
                  "--sites", str(tmp_path / "sites.csv"))
    assert result.exit_code == 2
    assert "edges.csv row 3: unknown site id 'Q' in target" in result.stderr


def test_an_unknown_preset_lists_the_presets():
    result = _run("no-such-scenario")
    assert result.exit_code == 2
    assert "reference_threshold" in result.stderr


def test_an_unwritable_output_is_an_error_not_a_traceback(small, tmp_path):
    result = _run(str(small), "--out", str(tmp_path / "missing" / "r.json"))
    assert result.exit_code == 1
    assert "Error: cannot write" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("toml,message", [
    ("[network]\ngenerator = 'watts_strogatz'\nn = 10\nk = 20\n",
     "Error: network.k must be smaller than n (10) for 'watts_strogatz', got 20"),
    ("[network]\ngenerator = 'layered'\nn = 4\nregions = 5\n",
     "Error: network.regions must be at most n (4) for 'layered'"),
    ("[network]\ngenerator = 'barabasi_albert'\nn = 50\nseed = -4\n",
     "Error: network.seed must be >= 0, got -4"),
    ("[network]\nn = 50\n[contagion]\np = 0.1\n",
     "Error: network: give network.generator (with its parameters), network.edges or --network"),
    ("[contagion]\np = 0.1\n",
     "Error: network: give network.generator (with its parameters), network.edges or --network"),
])
def test_bad_networks_exit_2_naming_the_key_without_a_traceback(tmp_path, toml, message):
    (tmp_path / "bad.toml").write_text(toml)
    result = _run(str(tmp_path / "bad.toml"))
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_an_edge_list_with_only_a_header_exits_2(tmp_path, small):
    (tmp_path / "empty.csv").write_text("source,target,layer,weight\n")
    result = _run(str(small), "--network", str(tmp_path / "empty.csv"))
    assert result.exit_code == 2, result.output
    assert "Error: empty.csv: no edges (and no sites listed): the network has no sites" \
        in result.stderr


def test_the_summary_formats_costs_and_says_when_no_site_adopted(tmp_path):
    (tmp_path / "s.toml").write_text(
        "horizon = 4\nruns = 3\n[network]\ngenerator = 'complete'\nn = 20\n"
        "[push]\ncost_per_site = 1234.5678\ncost_per_hour = 0\nadoption_rate = 0\n"
        "[[push.waves]]\nsize = 10\n")
    result = _run(str(tmp_path / "s.toml"))
    assert result.exit_code == 0, result.output
    assert "cost: 12,345.68; cost per adopted site: no site adopted" in result.stdout


def test_the_summary_shows_cost_per_adopted_site_as_money(small):
    result = _run(str(small))
    line = next(x for x in result.stdout.splitlines() if "cost per adopted site" in x)
    value = line.rsplit(": ", 1)[1]
    assert value.replace(",", "").replace(".", "").isdigit() and value[-3] == "."


def test_overrides_are_in_the_config_hash_and_network_paths_are_not(tmp_path, small):
    def meta(*args: str) -> dict:
        result = _run(*args, "--out", "-")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)["metadata"]

    overridden = meta(str(small), "--runs", "4", "--seed", "5")
    (tmp_path / "same.toml").write_text(SMALL.replace("runs = 6", "runs = 4")
                                        .replace("seed = 3", "seed = 5"))
    assert meta(str(tmp_path / "same.toml"))["config_hash"] == overridden["config_hash"]
    assert meta(str(small))["config_hash"] != overridden["config_hash"]
    hashes = []
    (tmp_path / "s.toml").write_text("horizon = 3\nruns = 2\nseed = 1\n[contagion]\np = 0.1\n")
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        edges = tmp_path / folder / "edges.csv"
        edges.write_text("source,target,layer,weight\nA,B,peer,1\nB,C,peer,1\n")
        m = meta(str(tmp_path / "s.toml"), "--network", str(edges))
        assert m["scenario"]["network"]["edges"] == str(edges.resolve())
        hashes.append(m["config_hash"])
    assert hashes[0] == hashes[1]
