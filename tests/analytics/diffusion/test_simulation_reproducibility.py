"""Same seed, same results: whatever the batch size and wherever the batches run."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest

from spreadscale.analytics.diffusion import Scenario, compile_model, layered_network, run_model

# every logic switched on, including abandonment and re-adoption (which redraw clocks)
ALL_LOGICS = {
    "horizon": 30,
    "initial": {"fraction": 0.02},
    "push": {"facilitators": 2, "waves": [{"step": 0, "size": 20, "eligible": {"region": ["B"]}},
                                          {"step": 10, "size": 20, "select": "readiness"}]},
    "adaptation": {"probability": 0.3, "adoption_multiplier": 1.5, "fidelity_drift": 0.01},
    "contagion": {"p": 0.005, "q": 0.2, "cascade_probability": 0.05, "opinion_leader_weight": 2,
                  "fatigue_growth": 0.05, "fatigue_decay": 0.1, "discontinuance": 0.05,
                  "discontinuance_fidelity": 1.0, "discontinuance_tenure_halflife": 5,
                  "readoption": 0.5,
                  "threshold": {"distribution": "uniform", "low": 0.3, "high": 0.9}},
}


@pytest.fixture(scope="module")
def model():
    return compile_model(Scenario.from_dict(ALL_LOGICS), layered_network(150, seed=4))


@pytest.fixture(scope="module")
def reference(model):
    return run_model(model, runs=12, seed=99, batch_size=12)


def _same(a, b) -> None:
    for name in a.curves:
        np.testing.assert_array_equal(a.curves[name], b.curves[name])
    for name in a.runs:
        np.testing.assert_array_equal(a.runs[name], b.runs[name])
    np.testing.assert_array_equal(a.rogers, b.rogers)
    assert a.metadata == b.metadata


def test_the_model_really_exercises_abandonment_and_readoption(reference):
    assert reference.runs["abandoned"].sum() > 0
    assert np.any(np.diff(reference.curves["abandoned"], axis=0) < 0)  # someone re-adopted


@pytest.mark.parametrize("batch_size", [1, 5, 7])
def test_results_do_not_depend_on_the_batch_size(model, reference, batch_size):
    _same(reference, run_model(model, runs=12, seed=99, batch_size=batch_size))


def test_a_thread_pool_gives_the_same_results(model, reference):
    with ThreadPoolExecutor(3) as pool:
        _same(reference, run_model(model, runs=12, seed=99, batch_size=4, executor=pool))


def test_a_process_pool_gives_the_same_results(model, reference):
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        _same(reference, run_model(model, runs=12, seed=99, batch_size=5, executor=pool))


def test_a_dask_cluster_gives_the_same_results(model, reference):
    from distributed import Client, LocalCluster  # the [dask] extra

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        result = run_model(model, runs=12, seed=99, batch_size=3,
                           executor=client.get_executor())
    _same(reference, result)


def test_dask_worker_processes_give_the_same_results(model, reference):
    # real worker processes: the model is pickled to them and batches come back pickled.
    # Kept small (12 runs on 150 sites); the waits are bounded so a stuck cluster fails fast.
    from distributed import Client, LocalCluster  # the [dask] extra

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      timeout=20) as cluster, Client(cluster, timeout=20) as client:
        client.wait_for_workers(2, timeout=20)
        result = run_model(model, runs=12, seed=99, batch_size=3,
                           executor=client.get_executor())
        pids = set(client.run(os.getpid).values())
    assert len(pids) == 2 and os.getpid() not in pids
    _same(reference, result)


def test_different_seeds_give_different_runs(model, reference):
    other = run_model(model, runs=12, seed=100)
    assert not np.array_equal(reference.curves["adoption"], other.curves["adoption"])


def test_a_numpy_generator_is_accepted_as_seed_like_networkx(model):
    a = run_model(model, runs=3, seed=np.random.default_rng(5))
    b = run_model(model, runs=3, seed=np.random.default_rng(5))
    np.testing.assert_array_equal(a.curves["adoption"], b.curves["adoption"])
    assert a.metadata["seed"] == b.metadata["seed"]


def test_progress_inside_one_in_process_batch_comes_step_by_step(model):
    calls: list[int] = []
    result = run_model(model, runs=40, seed=99, progress=calls.append)
    assert len(calls) >= 20  # 40 runs in one batch, reported over its 31 steps
    assert sum(calls) == 40 and all(c > 0 for c in calls)
    _same(result, run_model(model, runs=40, seed=99, batch_size=7))


def test_progress_adds_up_to_the_runs_with_an_executor(model, reference):
    calls: list[int] = []
    with ThreadPoolExecutor(2) as pool:
        result = run_model(model, runs=12, seed=99, batch_size=5, executor=pool,
                           progress=calls.append)
    assert sorted(calls) == [2, 5, 5]
    _same(reference, result)
