"""SQL queries per page do not grow with the number of sites.

Each test measures a page on the demo's 24 sites, enrols 36 more (with a phase change and a
year of data for every measure, through actions), and asserts the same page takes exactly the
same number of queries on 60 sites. The board's cache is cleared before each measurement, so
both are cold requests.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from spreadscale.web.core import actions as core
from spreadscale.web.core.models import Enrolment, Site
from spreadscale.web.measurement import actions
from spreadscale.web.measurement.models import Measure, Observation

EXTRA = 36


def _url(name, **kw):
    return reverse(name, kwargs={"slug": "clabsi", **kw})


def _months(n: int, last: date) -> list[date]:
    out = []
    y, m = last.year, last.month
    for _ in range(n):
        out.append(date(y, m, 1))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


@pytest.fixture
def more_sites(programme, user, site):
    """Enrol EXTRA more units with a phase change and 12 months of every measure's data."""

    def add() -> int:
        lead = user("lead")
        parent = site("RA1-GICU").parent
        measures = list(
            Measure.objects.filter(programme=programme, frequency__in=["month", "event"])
        )
        last = Observation.objects.filter(measure__slug="clabsi-rate").latest("period_start")
        months = _months(12, last.period_start)
        rows = []
        for i in range(EXTRA):
            unit = core.create_site(
                lead,
                name=f"Extra unit {i}",
                code=f"XTRA-{i:03d}",
                parent=parent,
                level=Site.Level.UNIT,
                kind=Site.Kind.WARD,
            )
            enrolment = core.enrol_site(lead, programme, unit, enrolled_on=months[0])
            core.change_phase(
                lead, enrolment, to_phase="testing", effective_on=months[3], reason="first PDSA"
            )
            for m in measures:
                for k, start in enumerate(months):
                    if m.frequency == "event":
                        rows.append(
                            actions.ObservationRow(
                                m.slug, unit.code, start + timedelta(days=i % 20), value=20 + k
                            )
                        )
                    elif m.uses_ratio:
                        rows.append(
                            actions.ObservationRow(
                                m.slug, unit.code, start, numerator=k % 5, denominator=40 + i
                            )
                        )
                    else:
                        rows.append(actions.ObservationRow(m.slug, unit.code, start, value=k))
        actions.import_observations(lead, programme, rows)
        return Enrolment.objects.filter(programme=programme).count()

    return add


def _count(client, url, params=None) -> int:
    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    ("name", "kw", "params"),
    [
        ("measurement_glance", {}, {}),
        ("measurement_glance", {}, {"region": "RA"}),
        ("measure_detail", {"measure_slug": "clabsi-rate"}, {}),
        ("measure_detail", {"measure_slug": "bundle-compliance"}, {}),
        ("measure_funnel", {"measure_slug": "bundle-compliance"}, {"periods": 6}),
    ],
)
def test_queries_are_the_same_for_24_and_60_sites(client_for, more_sites, name, kw, params):
    client = client_for("lead")
    url = _url(name, **kw)
    n_before = _n_sites(client.get(url, params).context)  # also warms per-process caches
    small = _count(client, url, params)
    assert more_sites() == 24 + EXTRA
    large = _count(client, url, params)
    assert large == small, f"{name}: {small} queries on 24 sites, {large} on {24 + EXTRA}"
    assert _n_sites(client.get(url, params).context) == n_before + EXTRA  # all on the page


def _n_sites(ctx) -> int:
    if "tables" in ctx:  # the measure page: 50 charts a page
        assert len(ctx["tables"]) == min(50, ctx["page"].paginator.count)
        return ctx["page"].paginator.count
    if "n_sites" in ctx:  # the board
        return ctx["n_sites"]
    return len(ctx["sites"])  # the funnel


def test_the_board_cached_request_is_the_same_too(client_for, more_sites):
    client = client_for("lead")
    url = _url("measurement_glance")
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    more_sites()
    client.get(url)
    with CaptureQueriesContext(connection) as large:
        client.get(url)
    assert len(large.captured_queries) == len(small.captured_queries)
