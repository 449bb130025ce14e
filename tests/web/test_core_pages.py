"""The foundation's pages: overview, site page with phase changes, and the entry form."""

from __future__ import annotations

from django.urls import reverse

from spreadscale.web.core.models import Enrolment, Event, PhaseChange
from spreadscale.web.measurement.models import Observation


def _url(name, **kw):
    return reverse(name, kwargs={"slug": "clabsi", **kw})


def test_the_overview_groups_sites_by_region_and_shows_latest_values(client_for):
    page = client_for("lead").get(_url("programme_overview"))
    groups = page.context["groups"]
    assert [g["region"].code for g in groups] == ["RA", "RB", "RC"]
    assert sum(len(g["rows"]) for g in groups) == 24
    latest = (
        Observation.objects.filter(site__code="RA1-GICU", measure__slug="clabsi-rate")
        .order_by("-period_start")
        .first()
    )
    row = next(r for r in groups[0]["rows"] if r["row"].enrolment.site.code == "RA1-GICU")
    cell = row["cells"][0]
    assert cell.period_start == latest.period_start
    assert cell.value == latest.numerator / latest.denominator * 1000


def test_the_overview_filters_by_region_and_phase(client_for):
    page = client_for("lead").get(_url("programme_overview") + "?region=RC&phase=abandoned")
    codes = [item["row"].enrolment.site.code for g in page.context["groups"] for item in g["rows"]]
    assert codes == ["RC4-GICU"]


def test_the_overview_runs_the_same_number_of_queries_whatever_the_number_of_sites(
    client_for, django_assert_max_num_queries
):
    client = client_for("lead")
    client.get(_url("programme_overview"))  # warm the session
    with django_assert_max_num_queries(12):
        client.get(_url("programme_overview"))


def test_a_site_lead_records_a_phase_change_with_a_reason(client_for, site):
    unit = site("RA1-GICU")
    enrolment = Enrolment.objects.get(site=unit)
    client = client_for("site_a")
    response = client.post(
        _url("fidelity:move_phase", site_id=unit.pk),
        {
            "to_phase": "abandoned",
            "effective_on": "2026-07-01",
            "reason": "Unit closed for refurbishment",
            "version": enrolment.version,
        },
    )
    assert response.status_code == 302
    change = PhaseChange.objects.filter(enrolment=enrolment).last()
    assert (change.to_phase, change.reason, change.changed_by.username) == (
        "abandoned",
        "Unit closed for refurbishment",
        "site",
    )
    assert Event.objects.filter(verb="phase.changed", site=unit, payload__to="abandoned").exists()
    page = client.get(_url("site_detail", site_id=unit.pk))
    assert "Phase changed from sustaining to abandoned: Unit closed for refurbishment" in page.text


def test_a_phase_change_without_a_reason_is_refused_naming_the_field(client_for, site):
    unit = site("RA1-GICU")
    enrolment = Enrolment.objects.get(site=unit)
    response = client_for("site_a").post(
        _url("fidelity:move_phase", site_id=unit.pk),
        {
            "to_phase": "abandoned",
            "effective_on": "2026-07-01",
            "reason": " ",
            "version": enrolment.version,
        },
    )
    assert response.status_code == 422
    assert "reason" in response.context["phase_form"].errors


def test_a_phase_change_dated_before_the_current_phase_began_is_refused(client_for, site):
    unit = site("RA1-GICU")
    enrolment = Enrolment.objects.get(site=unit)
    response = client_for("site_a").post(
        _url("fidelity:move_phase", site_id=unit.pk),
        {
            "to_phase": "abandoned",
            "effective_on": "2020-01-01",
            "reason": "typo",
            "version": enrolment.version,
        },
    )
    assert response.status_code == 422
    assert "effective_on" in response.context["phase_form"].errors


def test_the_entry_form_names_the_field_that_is_wrong(client_for, site):
    response = client_for("site_a").post(
        _url("measure_detail", measure_slug="bundle-compliance"),
        {
            "site": site("RA1-GICU").pk,
            "period": "2026-07",
            "numerator": 40,
            "denominator": 30,
            "version": 0,
        },
    )
    assert response.status_code == 422
    assert "cannot be above the denominator" in response.context["form"].errors["numerator"][0]


def test_the_entry_form_refuses_an_unreadable_period(client_for, site):
    response = client_for("site_a").post(
        _url("measure_detail", measure_slug="bundle-compliance"),
        {
            "site": site("RA1-GICU").pk,
            "period": "July",
            "numerator": 1,
            "denominator": 30,
            "version": 0,
        },
    )
    assert response.status_code == 422
    assert "is not a date or period" in response.context["form"].errors["period"][0]


def test_editing_a_value_someone_changed_in_between_is_refused_with_a_message(client_for, site):
    unit = site("RA1-GICU")
    obs = (
        Observation.objects.filter(site=unit, measure__slug="bundle-compliance")
        .order_by("-period_start")
        .first()
    )
    seen = obs.version
    Observation.objects.filter(pk=obs.pk).update(version=seen + 1, numerator=1)  # a colleague saved
    response = client_for("site_a").post(
        _url("measure_detail", measure_slug="bundle-compliance"),
        {
            "site": unit.pk,
            "period": obs.period_start.strftime("%Y-%m"),
            "numerator": 2,
            "denominator": obs.denominator,
            "version": seen,
        },
    )
    assert response.status_code == 422
    assert "changed by someone else" in str(response.context["form"].errors)
    assert Observation.objects.get(pk=obs.pk).numerator == 1


def test_an_htmx_submission_gets_back_only_the_form_fragment(client_for, site):
    response = client_for("site_a").post(
        _url("measure_detail", measure_slug="bundle-compliance"),
        {
            "site": site("RA1-GICU").pk,
            "period": "2026-07",
            "numerator": 40,
            "denominator": 30,
            "version": 0,
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    assert response.text.lstrip().startswith("<form")
    assert "<html" not in response.text
