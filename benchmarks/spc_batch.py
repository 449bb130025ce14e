"""Print timings of the SPC batch API and the ``spreadscale spc`` command.

Usage::

    .venv/bin/python benchmarks/spc_batch.py [--sites 1000] [--measures 20] [--points 60]

Figures: I and P charts (anhoej profile) on sites x measures series of ``points`` points
through :func:`spreadscale.analytics.spc.spc_batch`, then the whole ``spreadscale spc``
process on the same data written as a CSV in a temporary directory.

Comparison with clinical-qikit 0.5.0 (never a project dependency) on the very same data:
the first 1,000 series are written once to a ``.npy`` file, spreadscale's batch API is timed
on the array read back from it and qikit (one ``qic`` call per series) reads the same file;
the largest CL/UCL difference between the two is printed as a check. Create a throwaway
venv outside the repository and point ``QIKIT_PYTHON`` at its interpreter::

    python3 -m venv /tmp/qikit-venv && /tmp/qikit-venv/bin/pip install clinical-qikit==0.5.0
    QIKIT_PYTHON=/tmp/qikit-venv/bin/python .venv/bin/python benchmarks/spc_batch.py
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

from spreadscale.analytics.spc import spc_batch


def make_data(n_series: int, n_points: int, seed: int = 1) -> dict[str, np.ndarray]:
    """Random I-chart and P-chart data, sorted by (series, x) like an export would be."""
    rng = np.random.default_rng(seed)
    size = n_series * n_points
    group = np.repeat(np.arange(n_series), n_points)
    x = np.tile(np.arange(n_points), n_series)
    level = np.repeat(rng.normal(50, 10, n_series), n_points)
    y = level + rng.normal(0, 5, size)
    n = rng.integers(50, 200, size).astype(float)
    e = rng.binomial(n.astype(int), 0.2).astype(float)
    return {"group": group, "x": x, "y": y, "n": n, "e": e}


def best_of(fn, repeat: int = 5) -> float:
    """Fastest of ``repeat`` wall-clock runs, in seconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def cpu_of(fn) -> float:
    """CPU seconds of one run of this process (less sensitive to other jobs on the machine)."""
    t0 = time.process_time()
    fn()
    return time.process_time() - t0


# Reads the very series spreadscale is timed on (one .npy file written by main), times one
# qikit.qic call per series, then saves each series' CL and UCL for the agreement check.
QIKIT_SCRIPT = textwrap.dedent(
    """
    import sys, time, numpy as np, qikit
    y = np.load(sys.argv[1])
    k, m = y.shape
    t0 = time.perf_counter()
    results = [qikit.qic(y=y[i], chart="i") for i in range(k)]
    elapsed = time.perf_counter() - t0
    np.save(sys.argv[2], np.array([[r.data["cl"].iloc[0], r.data["ucl"].iloc[0]]
                                   for r in results]))
    print(getattr(qikit, "__version__", "?"), elapsed)
    """
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=1000)
    ap.add_argument("--measures", type=int, default=20)
    ap.add_argument("--points", type=int, default=60)
    ap.add_argument("--qikit-python", default=os.environ.get("QIKIT_PYTHON"))
    args = ap.parse_args()
    k, m = args.sites * args.measures, args.points
    d = make_data(k, m)
    print(f"{k:,} series x {m} points = {k * m:,} rows (2-core figures in docs/spc.md)")

    print(f"load average before: {os.getloadavg()[0]:.2f} (other jobs inflate wall times)")

    def i_chart() -> object:
        return spc_batch(d["y"], group=d["group"], x=d["x"], chart="i")

    def p_chart() -> object:
        return spc_batch(d["e"], group=d["group"], x=d["x"], n=d["n"], chart="p")

    for name, fn in (("I", i_chart), ("P", p_chart)):
        print(f"batch API, {name} chart, anhoej: {best_of(fn):.3f} s wall, "
              f"{cpu_of(fn):.3f} s CPU  (goal <= 0.5 s)")
    # The comparison set: the first 1,000 series, written once and read back by both tools.
    k_small = min(1000, k)
    cmp_dir = tempfile.TemporaryDirectory()
    cmp_file = Path(cmp_dir.name) / "series.npy"
    np.save(cmp_file, d["y"][: k_small * m].reshape(k_small, m))
    y_small = np.load(cmp_file).ravel()
    g_small, x_small = d["group"][: k_small * m], d["x"][: k_small * m]

    def small() -> object:
        return spc_batch(y_small, group=g_small, x=x_small, chart="i")

    t_small = best_of(small)
    print(f"batch API, I chart, {k_small:,} x {m}: {t_small * 1000:.1f} ms")

    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "spc.csv"
        site = d["group"] // args.measures
        measure = d["group"] % args.measures
        dates = np.datetime64("2020-01-01") + d["x"].astype("timedelta64[D]") * 7
        # Written with pyarrow so that generating the file is not what the benchmark measures.
        import pyarrow as pa
        import pyarrow.csv as pacsv

        by = pa.array(np.char.add(np.char.add("s", site.astype(str)),
                                  np.char.add("-m", measure.astype(str))))
        table = pa.table({"series": by, "week": pa.array(dates), "value": d["y"]})
        pacsv.write_csv(table, csv)
        cmd = [sys.executable, "-m", "spreadscale.cli", "spc", str(csv), "--chart", "i",
               "--x", "week", "--y", "value", "--by", "series",
               "--points", str(Path(tmp) / "points.csv"),
               "--summary", str(Path(tmp) / "summary.csv")]
        runs, cpu = [], []
        for _ in range(3):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True)
            runs.append(time.perf_counter() - t0)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        print(f"`spreadscale spc` process, {k * m:,}-row CSV, I chart, points + summary "
              f"written: {min(runs):.2f} s wall, {min(cpu):.2f} s CPU (user+sys)  (goal <= 3 s)")

    if args.qikit_python:
        script = Path(cmp_dir.name) / "qikit_bench.py"
        script.write_text(QIKIT_SCRIPT)
        limits = Path(cmp_dir.name) / "qikit_limits.npy"
        out = subprocess.run([args.qikit_python, str(script), str(cmp_file), str(limits)],
                             check=True, capture_output=True, text=True)
        version, t_q = out.stdout.strip().splitlines()[-1].split()
        theirs = np.load(limits)
        ours = small().summary  # type: ignore[attr-defined]
        d_cl = float(np.max(np.abs(ours["cl"] - theirs[:, 0])))
        d_ucl = float(np.max(np.abs(ours["ucl"] - theirs[:, 1])))
        print(f"clinical-qikit {version}, I chart, the same {k_small:,} x {m} series (one call "
              f"per series): {float(t_q):.2f} s; spreadscale is "
              f"{float(t_q) / t_small:,.0f}x faster; largest |CL| / |UCL| difference "
              f"{d_cl:.2g} / {d_ucl:.2g}")
    else:
        print("qikit comparison skipped: set QIKIT_PYTHON (see the module docstring)")
    cmp_dir.cleanup()
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
