"""The at-a-glance board, its Excel download and the funnel plot."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.urls import reverse


def _url(name, **kw):
    return reverse(name, kwargs={"slug": "clabsi", **kw})


def test_the_lead_sees_every_site_and_measure_with_icons_and_trends(client_for):
    response = client_for("lead").get(_url("measurement_glance"))
    assert response.status_code == 200
    rows = response.context["rows"]
    assert len(rows) == 24
    assert len(response.context["measures"]) >= 4
    assert "icon-improvement" in response.text
    assert "<polyline points=" in response.text
    rollups = {m.slug: r for m, s, r, err in response.context["rollups"]}
    assert rollups["bundle-compliance"]["improved"] > 0


def test_needs_attention_sorts_concerns_first(client_for):
    rows = client_for("lead").get(_url("measurement_glance")).context["rows"]
    scores = [r.attention for r in rows]
    assert scores == sorted(scores, reverse=True)


def test_filters_by_region_and_phase(client_for):
    client = client_for("lead")
    rows = client.get(_url("measurement_glance"), {"region": "RB"}).context["rows"]
    assert rows and all(r.row.enrolment.site.code.startswith("RB") for r in rows)
    rows = client.get(_url("measurement_glance"), {"phase": "abandoned"}).context["rows"]
    assert rows and all(r.row.enrolment.phase == "abandoned" for r in rows)


def test_a_site_lead_sees_only_their_own_row(client_for):
    rows = client_for("site_a").get(_url("measurement_glance")).context["rows"]
    assert [r.row.enrolment.site.code for r in rows] == ["RA1-GICU"]


def test_the_board_query_count_does_not_grow_with_sites(client_for, django_assert_max_num_queries):
    client = client_for("lead")
    with django_assert_max_num_queries(15):
        client.get(_url("measurement_glance"), {"region": "RA"})
    with django_assert_max_num_queries(15):
        client.get(_url("measurement_glance"))


def test_the_board_downloads_as_a_workbook(client_for):
    response = client_for("lead").get(_url("measurement_glance_xlsx"))
    wb = openpyxl.load_workbook(io.BytesIO(response.content))
    assert wb.sheetnames == ["At a glance", "Roll-up"]
    assert wb["At a glance"].max_row == 25
    assert wb["Roll-up"]["A2"].value


def test_outsiders_get_404_on_the_board(client_for):
    assert client_for("outsider").get(_url("measurement_glance")).status_code == 404


@pytest.mark.parametrize("window", [{"months": "1"}, {"periods": "12"}, {}])
def test_the_funnel_places_every_site_for_the_latest_period_or_a_window(client_for, window):
    response = client_for("lead").get(
        _url("measure_funnel", measure_slug="bundle-compliance"), window
    )
    assert response.status_code == 200
    sites = response.context["sites"]
    assert len(sites) >= 20
    assert {s["status"] for s in sites} <= {"within", "above", "below"}
    assert response.context["spec"]["$schema"].endswith("v6.json")


def test_a_funnel_needs_a_ratio_measure(client_for):
    response = client_for("lead").get(
        _url("measure_funnel", measure_slug="days-between-infections")
    )
    assert response.status_code == 404


def test_a_new_value_shows_on_the_board_at_once(client_for, user, site, programme):
    from datetime import date

    from spreadscale.web.measurement import actions
    from spreadscale.web.measurement.models import Measure

    client = client_for("lead")
    client.get(_url("measurement_glance"))  # fills the cache
    measure = Measure.objects.get(programme=programme, slug="bundle-compliance")
    actions.record_observation(
        user("site_a"),
        measure,
        site("RA1-GICU"),
        actions.ObservationInput(period_start=date(2030, 1, 1), numerator=1, denominator=4),
    )
    response = client.get(_url("measurement_glance"), {"sort": "site"})
    k = [m.slug for m in response.context["measures"]].index("bundle-compliance")
    row = next(r for r in response.context["rows"] if r.row.enrolment.site.code == "RA1-GICU")
    assert row.cells[k].period == "2030-01-01" and row.cells[k].value == 25.0


# --- funnel: the window in the measure's own periods; exports ----------------------------------


@pytest.fixture
def weekly(programme, user, site):
    """A weekly proportion measure with 8 weeks of data at four sites, entered through actions."""
    from datetime import date, timedelta

    from spreadscale.web.measurement import actions

    measure = actions.create_measure(
        user("lead"),
        programme,
        slug="hand-hygiene-weekly",
        name="Weekly hand hygiene audit",
        type="process",
        data_kind="proportion",
        multiplier=100.0,
        unit="%",
        improvement="increase",
        frequency="week",
        default_chart="p",
    )
    first = date(2024, 1, 1)  # a Monday
    rows = [
        actions.ObservationRow(
            measure=measure.slug,
            site=code,
            period_start=first + timedelta(weeks=k),
            numerator=k + s,
            denominator=10 + k,
        )
        for s, code in enumerate(["RA1-GICU", "RA2-GICU", "RB1-GICU", "RB2-GICU"])
        for k in range(8)
    ]
    actions.import_observations(user("lead"), programme, rows)
    return measure


def _funnel(client, slug, **params):
    return client.get(_url("measure_funnel", measure_slug=slug), params)


def test_a_weekly_funnel_counts_its_window_in_weeks(client_for, weekly):
    from datetime import date

    client = client_for("lead")
    latest = _funnel(client, weekly.slug)
    assert latest.status_code == 200
    # the latest week only: week 8 (k = 7) has denominator 17, not a month's worth of weeks
    assert {s["n"] for s in latest.context["sites"]} == {17}
    assert latest.context["since"] == latest.context["last"] == date(2024, 2, 19)
    assert "Latest week" in latest.text
    four = _funnel(client, weekly.slug, periods=4)
    assert {s["n"] for s in four.context["sites"]} == {14 + 15 + 16 + 17}
    assert four.context["since"] == date(2024, 1, 29)
    assert "week of 29 Jan 2024 to week of 19 Feb 2024" in four.context["spec"]["title"]["text"]
    # an old months= link spans the weeks of those months
    old = _funnel(client, weekly.slug, months=1)
    assert old.context["periods"] == 5


def test_a_monthly_funnel_window_is_unchanged(client_for):
    client = client_for("lead")
    by_months = _funnel(client, "bundle-compliance", months=3)
    by_periods = _funnel(client, "bundle-compliance", periods=3)
    assert by_months.context["sites"] == by_periods.context["sites"]
    assert by_periods.context["since"].month != by_periods.context["last"].month


@pytest.mark.parametrize(
    ("fmt", "magic"), [("svg", b"<svg"), ("png", b"\x89PNG"), ("pdf", b"%PDF")]
)
def test_the_funnel_exports_from_the_page_spec(fmt, magic, client_for, weekly):
    client = client_for("lead")
    response = client.get(
        _url("measure_funnel_export", measure_slug=weekly.slug, fmt=fmt), {"periods": 4}
    )
    assert response.status_code == 200
    assert magic in response.content[:200]
    assert response["Content-Disposition"].endswith(f'-2024-01-29-2024-02-19.{fmt}"')
    if fmt == "svg":
        page = _funnel(client, weekly.slug, periods=4)
        title = page.context["spec"]["title"]["text"]
        assert title in response.content.decode()
        assert f"{weekly.slug}/funnel.svg?periods=4" in page.text


def test_funnel_exports_refuse_other_formats_and_non_ratio_measures(client_for):
    client = client_for("lead")
    bad = client.get(_url("measure_funnel_export", measure_slug="bundle-compliance", fmt="gif"))
    assert bad.status_code == 404
    g = client.get(_url("measure_funnel_export", measure_slug="days-between-infections", fmt="svg"))
    assert g.status_code == 404
    assert (
        client_for("outsider")
        .get(_url("measure_funnel_export", measure_slug="bundle-compliance", fmt="svg"))
        .status_code
        == 404
    )


# --- the board's cache: per measure, renewed by the writes that change its cells ---------------


def _computed_measures(monkeypatch):
    """Record which measures the board recomputes (the real computation still runs)."""
    from spreadscale.web.measurement import board

    seen: list[str] = []
    real = board.selectors.charts_from_rows

    def spy(measure, *args, **kwargs):
        seen.append(measure.slug)
        return real(measure, *args, **kwargs)

    monkeypatch.setattr(board.selectors, "charts_from_rows", spy)
    return seen


def test_a_new_value_recomputes_only_its_own_measure(
    client_for, user, site, programme, monkeypatch
):
    from datetime import date

    from spreadscale.web.measurement import actions
    from spreadscale.web.measurement.models import Measure

    client = client_for("lead")
    client.get(_url("measurement_glance"))
    seen = _computed_measures(monkeypatch)
    client.get(_url("measurement_glance"))
    assert seen == []  # nothing changed: every measure comes from the cache
    measure = Measure.objects.get(programme=programme, slug="bundle-compliance")
    actions.record_observation(
        user("site_a"),
        measure,
        site("RA1-GICU"),
        actions.ObservationInput(period_start=date(2030, 1, 1), numerator=1, denominator=4),
    )
    client.get(_url("measurement_glance"))
    assert seen == ["bundle-compliance"]


def test_chart_settings_and_the_measure_definition_are_part_of_the_key(
    client_for, user, programme, monkeypatch
):
    from spreadscale.web.measurement import actions
    from spreadscale.web.measurement.models import Measure

    client = client_for("lead")
    client.get(_url("measurement_glance"))
    seen = _computed_measures(monkeypatch)
    measure = Measure.objects.get(programme=programme, slug="bundle-compliance")
    settings = actions.chart_settings_for(measure)
    actions.update_chart_settings(
        user("lead"),
        measure,
        chart=settings.chart,
        rules="ihi" if settings.rules != "ihi" else "anhoej",
        y_scale=settings.y_scale,
        reason="Programme standard",
        expected_version=settings.version,
    )
    client.get(_url("measurement_glance"))
    assert seen == ["bundle-compliance"]
    other = Measure.objects.filter(programme=programme).exclude(pk=measure.pk).first()
    other.target = 42.0  # an admin edit records no observation but changes the assurance icons
    other.save()
    client.get(_url("measurement_glance"))
    assert seen == ["bundle-compliance", other.slug]


def _token(measure):
    measure.refresh_from_db()
    return measure.data_token


def test_each_write_to_a_measure_renews_its_token(user, site, programme):
    from datetime import date

    from django.core.exceptions import ValidationError

    from spreadscale.web.measurement import actions
    from spreadscale.web.measurement.models import Measure

    measure = Measure.objects.get(programme=programme, slug="bundle-compliance")
    other = Measure.objects.filter(programme=programme).exclude(pk=measure.pk).first()
    other_token = _token(other)
    lead, unit = user("lead"), site("RA1-GICU")
    entry = actions.ObservationInput(period_start=date(2030, 1, 1), numerator=1, denominator=4)

    before = _token(measure)
    actions.record_observation(lead, measure, unit, entry)  # created
    assert _token(measure) != before
    before = _token(measure)
    actions.record_observation(lead, measure, unit, entry)  # the same numbers: nothing changes
    assert _token(measure) == before
    actions.record_observation(
        lead,
        measure,
        unit,
        actions.ObservationInput(period_start=date(2030, 1, 1), numerator=2, denominator=4),
    )  # revised
    assert _token(measure) != before

    row = actions.ObservationRow(
        measure=measure.slug,
        site="RA1-GICU",
        period_start=date(2030, 1, 1),
        numerator=3,
        denominator=4,
    )
    before = _token(measure)
    actions.import_observations(lead, programme, [row])  # an import's revision
    assert _token(measure) != before
    before = _token(measure)
    actions.import_observations(lead, programme, [row])  # re-imported unchanged
    assert _token(measure) == before
    with pytest.raises(ValidationError):  # refused: nothing written, token kept
        actions.import_observations(
            lead,
            programme,
            [row, actions.ObservationRow(measure="nope", site="X", period_start=date(2030, 1, 1))],
        )
    assert _token(measure) == before

    adj = actions.add_adjustment(
        lead, measure, unit, kind="phase", on=date(2030, 1, 1), reason="New process"
    )
    assert _token(measure) != before
    before = _token(measure)
    actions.withdraw_adjustment(lead, adj)
    assert _token(measure) != before
    assert _token(other) == other_token  # no write touched the other measure
