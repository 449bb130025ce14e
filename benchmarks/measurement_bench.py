"""Measurement workspace figures: page times and SQL queries at scale, and a 1M-row import.

Builds a programme of SITES sites × MEASURES weekly measures × WEEKS periods (default
1,000 × 20 × 104 = 2.08M observations) in a fresh database, then prints the median of 20
requests for the at-a-glance board and a measure page (50 sites' charts), the query count
per page, the board's first request with an empty cache and right after one new value, and
the time to import a 1M-row CSV through the import path.

    python benchmarks/measurement_bench.py                      # SQLite in a temp dir
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench python benchmarks/measurement_bench.py
    python benchmarks/measurement_bench.py --sites 200 --import-rows 200000   # quicker
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta

import numpy as np


def _setup(home: str) -> None:
    os.environ.setdefault("SPREADSCALE_HOME", home)
    os.environ.setdefault("SPREADSCALE_SECRET_KEY", "bench-" + "x" * 50)
    os.environ.setdefault("SPREADSCALE_ALLOWED_HOSTS", "testserver,localhost")
    os.environ["DJANGO_SETTINGS_MODULE"] = "spreadscale.web.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


KINDS = [
    ("proportion", "p", "increase"),
    ("rate", "u", "decrease"),
    ("count", "c", "decrease"),
    ("continuous", "i", "decrease"),
]


def build(n_sites: int, n_measures: int, n_weeks: int, seed: int = 1):
    """Programme, sites, measures and observations (bulk inserts: this is fixture data)."""
    from django.contrib.auth import get_user_model

    from spreadscale.web.core import actions as core
    from spreadscale.web.core.models import Enrolment, Role, Site
    from spreadscale.web.measurement.models import Measure, Observation

    rng = np.random.default_rng(seed)
    lead = get_user_model().objects.create_user("lead", password="x")
    programme = core.create_programme(None, slug="bench", name="Benchmark programme")
    core.add_membership(None, lead, programme, Role.LEAD)
    regions = [
        core.create_site(None, code=f"R{r}", name=f"Region {r}", level=Site.Level.REGION)
        for r in range(10)
    ]
    orgs = [
        core.create_site(
            None,
            parent=regions[r % 10],
            code=f"O{r}",
            name=f"Org {r}",
            level=Site.Level.ORGANISATION,
        )
        for r in range(50)
    ]
    units = Site.objects.bulk_create(
        [
            Site(code=f"U{i:04d}", name=f"Unit {i}", level=Site.Level.UNIT, parent=orgs[i % 50])
            for i in range(n_sites)
        ]
    )
    for u in units:
        u.path = f"{u.parent.path}{u.pk}/"
    Site.objects.bulk_update(units, ["path"], batch_size=1000)
    Enrolment.objects.bulk_create(
        [Enrolment(programme=programme, site=u, phase="implementing") for u in units]
    )
    measures = []
    for m in range(n_measures):
        kind, chart, better = KINDS[m % len(KINDS)]
        measures.append(
            Measure.objects.create(
                programme=programme,
                slug=f"m{m:02d}",
                name=f"Measure {m}",
                type="process",
                data_kind=kind,
                improvement=better,
                default_chart=chart,
                frequency="week",
                multiplier=100.0 if kind == "proportion" else 1000.0 if kind == "rate" else 1.0,
                target=80.0 if kind == "proportion" else None,
                order=m,
            )
        )
    start = date(2023, 1, 2)  # a Monday
    weeks = [start + timedelta(weeks=w) for w in range(n_weeks)]
    ends = [w + timedelta(days=6) for w in weeks]
    for measure in measures:
        batch = []
        den = rng.integers(20, 60, size=(n_sites, n_weeks))
        for i, u in enumerate(units):
            for w in range(n_weeks):
                if measure.data_kind == "proportion":
                    num, dn, val = float(rng.binomial(den[i, w], 0.7)), float(den[i, w]), None
                elif measure.data_kind == "rate":
                    num, dn, val = float(rng.poisson(2)), float(den[i, w] * 20), None
                elif measure.data_kind == "count":
                    num, dn, val = None, None, float(rng.poisson(5))
                else:
                    num, dn, val = None, None, float(rng.normal(50, 5))
                batch.append(
                    Observation(
                        measure=measure,
                        site=u,
                        period_start=weeks[w],
                        period_end=ends[w],
                        granularity="week",
                        numerator=num,
                        denominator=dn,
                        value=val,
                    )
                )
        Observation.objects.bulk_create(batch, batch_size=5000)
    return programme, lead, measures, units, weeks


def _median_ms(client, url: str, n: int = 20) -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    t0 = time.perf_counter()
    client.get(url)  # the first request fills the board's cache, as on a running server
    print(f"  first request to {url}: {(time.perf_counter() - t0) * 1000:.0f} ms")
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, response.status_code
    return statistics.median(times), len(ctx.captured_queries)


def bench_after_change(client, lead, measures, units, weeks, n: int = 5) -> tuple[float, float]:
    """The board's first request with an empty cache (SPC for every series), and the median
    first request after one new value at one site (SPC for that measure's series only)."""
    from django.core.cache import cache

    from spreadscale.web.measurement import actions

    url = "/p/bench/glance/"
    cache.clear()
    t0 = time.perf_counter()
    client.get(url)
    cold = (time.perf_counter() - t0) * 1000
    times = []
    for k in range(n):
        measure = measures[k % len(measures)]
        actions.record_observation(
            lead,
            measure,
            units[k],
            actions.ObservationInput(
                period_start=weeks[-1],
                numerator=5 if measure.uses_ratio else None,
                denominator=40 if measure.uses_ratio else None,
                value=None if measure.uses_ratio else 3.0,
            ),
        )
        t0 = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, response.status_code
    return cold, statistics.median(times)


def bench_import(programme, lead, measures, units, weeks, n_rows: int, tmp: str) -> float:
    from spreadscale.io.observations import guess_mapping
    from spreadscale.io.tables import read_table
    from spreadscale.web.measurement import imports

    path = os.path.join(tmp, "import.csv")
    props = [m for m in measures if m.data_kind == "proportion"]
    start = weeks[-1] + timedelta(weeks=1)
    with open(path, "w") as f:
        f.write("measure,site,period,numerator,denominator\n")
        written = 0
        w = 0
        while written < n_rows:
            period = (start + timedelta(weeks=w)).isoformat()
            for m in props:
                for u in units:
                    f.write(f"{m.slug},{u.code},{period},7,10\n")
                    written += 1
                    if written >= n_rows:
                        break
                if written >= n_rows:
                    break
            w += 1
    t0 = time.perf_counter()
    with open(path, "rb") as f:
        table = read_table(f.read(), "import.csv")
    preview = imports.preview(programme, table, guess_mapping(table.headers))
    assert not preview.problems, preview.problems[:3]
    result = imports.commit(lead, programme, preview, editable=None, source="bench")
    elapsed = time.perf_counter() - t0
    assert result.created == n_rows, result
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=1000)
    ap.add_argument("--measures", type=int, default=20)
    ap.add_argument("--weeks", type=int, default=104)
    ap.add_argument("--import-rows", type=int, default=1_000_000)
    ap.add_argument("--requests", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        _setup(tmp)
        from django.db import connection
        from django.test import Client

        t0 = time.perf_counter()
        programme, lead, measures, units, weeks = build(args.sites, args.measures, args.weeks)
        n_obs = args.sites * args.measures * args.weeks
        print(f"database: {connection.vendor}")
        print(f"built {n_obs:,} observations in {time.perf_counter() - t0:.0f} s")
        client = Client()
        client.force_login(lead)
        glance_ms, glance_q = _median_ms(client, "/p/bench/glance/", args.requests)
        print(
            f"at-a-glance board ({args.sites} sites × {args.measures} measures, 50 rows a page): "
            f"median {glance_ms:.0f} ms, {glance_q} queries"
        )
        page_ms, page_q = _median_ms(
            client, f"/p/bench/measures/{measures[0].slug}/", args.requests
        )
        print(f"measure page (50 sites' charts): median {page_ms:.0f} ms, {page_q} queries")
        cold_ms, changed_ms = bench_after_change(client, lead, measures, units, weeks)
        print(f"at-a-glance board, empty cache (SPC for every series): {cold_ms:.0f} ms")
        print(
            f"at-a-glance board, first request after one value changes (median of 5): "
            f"{changed_ms:.0f} ms"
        )
        secs = bench_import(programme, lead, measures, units, weeks, args.import_rows, tmp)
        print(f"import of a {args.import_rows:,}-row CSV: {secs:.1f} s")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
