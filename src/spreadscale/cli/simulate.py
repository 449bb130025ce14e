"""``spreadscale simulate``: run a scenario ensemble and write its results."""

from __future__ import annotations

import dataclasses
import sys
from concurrent.futures import Executor
from pathlib import Path
from typing import Any, NoReturn

import click
import networkx as nx
import numpy as np

from spreadscale.analytics.diffusion import (
    Scenario,
    ScenarioError,
    SimulationResult,
    compile_model,
    load_scenario,
    run_model,
)
from spreadscale.analytics.diffusion.network import load_network


def _fail(problems: list[str], code: int = 2) -> NoReturn:
    for problem in problems:
        click.echo(f"Error: {problem}", err=True)
    sys.exit(code)


@click.command()
@click.argument("scenario", metavar="SCENARIO")
@click.option("--network", "network_path", type=click.Path(dir_okay=False),
              help="Edge list CSV (source,target,layer,weight) to use instead of the scenario's.")
@click.option("--sites", "sites_path", type=click.Path(dir_okay=False),
              help="Site attributes CSV (id,kind,region,size,readiness,opinion_leader).")
@click.option("--runs", type=click.IntRange(min=1), help="Number of runs (default: scenario's).")
@click.option("--seed", type=click.IntRange(min=0), help="Base seed (default: scenario's).")
@click.option("--out", type=click.Path(dir_okay=False),
              help="Write results: .json (everything) or .csv (curves); '-' for JSON on stdout.")
@click.option("--chart", type=click.Path(dir_okay=False), help="Write the adoption chart as SVG.")
@click.option("--dask", "dask_address", metavar="ADDRESS",
              help="Submit batches to an existing Dask cluster (needs the [dask] extra).")
@click.option("--workers", type=click.IntRange(min=1),
              help="Run batches in this many local processes.")
@click.option("--batch-size", type=click.IntRange(min=1), help="Runs per batch (no effect on results).")
def simulate(scenario: str, network_path: str | None, sites_path: str | None, runs: int | None,
             seed: int | None, out: str | None, chart: str | None, dask_address: str | None,
             workers: int | None, batch_size: int | None) -> None:
    """Simulate the spread of an improvement across sites.

    SCENARIO is a scenario TOML file or the name of a shipped preset
    (bass, watts_threshold, valente_threshold, independent_cascade, complex_contagion,
    reference_threshold, three_logics). Step 0 is the initial state.
    """
    try:
        spec = load_scenario(scenario)
        if network_path is not None and not Path(network_path).exists():
            raise ScenarioError(f"--network: {network_path}: no such file")
        if sites_path is not None and network_path is None:
            raise ScenarioError("--sites describes the sites of an edge list: give --network too")
        network = load_network(spec.network, network_path, sites_path)
        if network_path is not None:  # the result's scenario records the files used
            spec = spec.replace(network=dataclasses.replace(
                spec.network, edges=str(Path(network_path).resolve()),
                sites=str(Path(sites_path).resolve()) if sites_path else spec.network.sites))
        model = compile_model(spec, network)
    except ScenarioError as exc:
        _fail(exc.problems)
    except nx.NetworkXException as exc:  # anything the scenario checks did not foresee
        _fail([f"network: {exc}"])
    total = spec.runs if runs is None else runs
    executor, cleanup = _executor(dask_address, workers)
    try:
        with click.progressbar(length=total, label="Simulating", file=sys.stderr,
                               show_pos=True) as bar:
            result = run_model(model, runs=total, seed=seed, executor=executor,
                               batch_size=batch_size, progress=bar.update)
    except ScenarioError as exc:
        _fail(exc.problems)
    finally:
        cleanup()
    _report(spec, result, to_stderr=out == "-")
    try:
        if out == "-":
            click.echo(result.to_json())
        elif out and out.endswith(".csv"):
            result.to_csv(out)
        elif out:
            result.to_json(out)
        if chart:
            _chart(spec, result, chart)
    except OSError as exc:
        _fail([f"cannot write {exc.filename}: {exc.strerror}"], code=1)


def _executor(dask_address: str | None, workers: int | None) -> tuple[Executor | None, Any]:
    """The executor for the batches and a function that releases it."""
    if dask_address:
        try:
            from distributed import Client
        except ImportError:
            _fail(["--dask needs the dask extra: pip install 'spreadscale[dask]'"])
        try:
            client = Client(dask_address, timeout="10s")
        except (OSError, TimeoutError) as exc:
            _fail([f"--dask: cannot connect to {dask_address}: {exc}"], code=1)
        return client.get_executor(), client.close
    if workers:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawn, not fork: forking a process that may hold threads can deadlock
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
        return pool, pool.shutdown
    return None, lambda: None


def _report(spec: Scenario, result: SimulationResult, *, to_stderr: bool) -> None:
    """A few headline figures on stdout (stderr when JSON goes to stdout)."""
    summary = result.summary()
    unit = spec.time_unit
    final = summary["final_adoption"]
    lines = [
        f"{spec.name or 'scenario'}: {result.metadata['runs']} runs, {result.metadata['sites']} "
        f"sites, {spec.horizon} steps of {spec.step:g} {unit}",
        f"adoption at the horizon: mean {final['mean']:.3f} "
        f"(5-95%: {final['p5']:.3f}-{final['p95']:.3f})",
    ]
    mid = spec.horizon // 2
    lines.append(f"mean adoption at step {mid}: {result.mean_adoption[mid]:.4f}")
    for level in spec.outputs.coverage_levels:
        value = summary[f"time_to_{level * 100:g}pct"]
        if value["share_reached"]:
            median = value["p50"]
            shown = "not reached in most runs" if median is None else f"median {median:g} {unit}s"
            lines.append(f"time to {level:.0%} coverage: {shown} "
                         f"(reached in {value['share_reached']:.0%} of runs)")
    if spec.push:
        # from the runs, not the summary: its 6 significant digits would show as false cents
        runs = result.runs
        per_site = runs["cost_per_adopted"][np.isfinite(runs["cost_per_adopted"])]
        lines.append(f"facilitator hours: {runs['facilitator_hours'].mean():,.0f}; "
                     f"cost: {_money(runs['cost'].mean())}; cost per adopted site: "
                     + (_money(per_site.mean()) if per_site.size else "no site adopted"))
    lines.append(f"config hash: {result.metadata['config_hash'][:16]}")
    for line in lines:
        click.echo(line, err=to_stderr)


def _money(value: float) -> str:
    """A mean cost in currency units, with thousands separators: 12,345.68."""
    return f"{value:,.2f}"


def _chart(spec: Scenario, result: SimulationResult, path: str) -> None:
    from spreadscale.charts.adoption import adoption_spec

    bands = {k: v.tolist() for k, v in result.bands("adoption").items()}
    vl = adoption_spec(result.time.tolist(), {spec.name or "scenario": bands},
                       title=f"Adoption: {spec.name}" if spec.name else "Adoption",
                       time_unit=spec.time_unit)
    try:
        import vl_convert
    except ImportError:
        _fail(["--chart needs vl-convert-python (pip install vl-convert-python)"])
    Path(path).write_text(vl_convert.vegalite_to_svg(vl), encoding="utf-8")
