"""Print the spread engine's reference figures (docs/simulation.md): accuracy, speed, memory.

Run: .venv/bin/python benchmarks/simulate_bench.py [--quick]
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from spreadscale.analytics.diffusion import (
    Scenario,
    SimulationResult,
    compile_model,
    load_scenario,
    run_model,
)

HERE = Path(__file__).parent


def peak_rss_mb() -> tuple[float, float]:
    """Peak resident memory of this process and of its largest child process, in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed[T](label: str, fn: Callable[[], T]) -> T:
    """Run fn, printing wall time and CPU time (CPU time is what other load cannot inflate)."""
    start, cpu = time.perf_counter(), _cpu()
    out = fn()
    print(f"{label}: {time.perf_counter() - start:.2f} s wall, {_cpu() - cpu:.2f} s CPU")
    return out


def main() -> None:
    quick = "--quick" in sys.argv
    print(f"cores available: {os.cpu_count()}; load average before start: "
          f"{os.getloadavg()[0]:.2f}")
    reference = Scenario.from_toml(HERE / "scenarios" / "reference_threshold.toml")
    model = timed("reference: generate BA(10,000, 3) network and compile", lambda: compile_model(
        reference))
    run_model(model, runs=2, seed=0)  # warm-up: first-touch page faults, lazy imports
    res = timed("reference: 100 runs", lambda: run_model(model, runs=100, seed=1))
    print(f"reference: mean adoption at step 50 = {res.mean_adoption[50]:.4f} "
          f"(target 0.226-0.232), at step 100 = {res.mean_adoption[100]:.4f} (target ~1.0)")

    full = load_scenario("three_logics")
    model = timed("three logics: generate 10,000-site layered network and compile",
                  lambda: compile_model(full))
    res = timed("three logics: 100 runs x 104 weekly steps, in-process",
                lambda: run_model(model, runs=100, seed=1))
    s = res.summary()
    print(f"three logics: adoption at week 104 = {s['final_adoption']['mean']:.3f} "
          f"(5-95%: {s['final_adoption']['p5']:.3f}-{s['final_adoption']['p95']:.3f}); "
          f"cost per adopted site = {s['cost_per_adopted']['mean']:.0f}")
    print(f"peak RSS so far: {peak_rss_mb()[0]:.0f} MB")
    if quick:
        return
    # fork: the workers are then our children, so RUSAGE_CHILDREN reports their peak memory
    ctx = multiprocessing.get_context("fork")
    def thousand_runs() -> SimulationResult:
        # the pool is shut down inside the timing, so the workers' CPU time is counted
        with ProcessPoolExecutor(2, mp_context=ctx) as pool:
            return run_model(model, runs=1000, seed=1, executor=pool, batch_size=100)

    res = timed("three logics: 1,000 runs on 2 worker processes", thousand_runs)
    print(f"three logics (1,000 runs): adoption at week 104 = "
          f"{res.summary()['final_adoption']['mean']:.3f}")
    print(f"load average now: {os.getloadavg()[0]:.2f}")
    own, child = peak_rss_mb()
    print(f"peak RSS: main process {own:.0f} MB, largest worker {child:.0f} MB")


if __name__ == "__main__":
    main()
