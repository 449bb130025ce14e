"""The measure page: one SPC chart per site, annotations, chart settings and chart changes."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.urls import reverse

from spreadscale.web.core.models import Event
from spreadscale.web.measurement import actions, selectors
from spreadscale.web.measurement.models import ChartAdjustment, ChartSettings, Measure


def _url(name, **kw):
    return reverse(name, kwargs={"slug": "clabsi", **kw})


def _specs(response):
    return {t["row"].enrolment.site.code: t for t in response.context["tables"]}


def test_the_lead_sees_one_chart_per_site_with_limits_and_the_default_u_chart(client_for):
    response = client_for("lead").get(_url("measure_detail", measure_slug="clabsi-rate"))
    assert response.status_code == 200
    tables = _specs(response)
    assert len(tables) == 24
    assert response.text.count('class="chart" data-spec=') == 24
    assert response.context["settings"].chart == "u"
    assert response.context["settings"].rules == "anhoej"
    assert response.context["settings"].pk is None  # the defaults, never saved
    points = tables["RA1-GICU"]["chart"].points
    assert len(points) > 12
    assert all(p["cl"] is not None and p["ucl"] is not None for p in points)
    spec = json.loads(
        response.text.split(f'id="spec-{tables["RA1-GICU"]["row"].enrolment.site_id}"')[1]
        .split(">", 1)[1]
        .split("</script>")[0]
    )
    assert spec["$schema"].endswith("v6.json")
    assert spec["data"]["values"][0]["x"] == points[0]["x"]


def test_the_demo_shows_real_improvement_signals_after_adoption(client_for):
    response = client_for("lead").get(_url("measure_detail", measure_slug="bundle-compliance"))
    rollup = response.context["charts"].rollup
    assert rollup["n_groups"] == 24
    kinds = {p["point_type"] for t in response.context["tables"] for p in t["chart"].points}
    assert "special_cause_improvement" in kinds


def test_phase_changes_appear_as_an_accessible_list_under_each_chart(client_for):
    response = client_for("lead").get(_url("measure_detail", measure_slug="clabsi-rate"))
    assert '<ul class="annotations">' in response.text
    assert '<li data-kind="phase">' in response.text
    tables = _specs(response)
    spec_notes = [layer for layer in tables["RA1-GICU"]["spec"]["layer"] if "data" in layer]
    assert spec_notes and spec_notes[0]["data"]["values"][0]["kind"] == "phase"


def test_query_count_does_not_grow_with_the_number_of_sites(
    client_for, django_assert_max_num_queries
):
    client = client_for("lead")
    with django_assert_max_num_queries(20):
        client.get(_url("measure_detail", measure_slug="clabsi-rate") + "?site=RA1-GICU")
    with django_assert_max_num_queries(20):
        client.get(_url("measure_detail", measure_slug="clabsi-rate"))


def test_a_site_lead_sees_only_their_site_chart(client_for):
    response = client_for("site_a").get(_url("measure_detail", measure_slug="clabsi-rate"))
    assert set(_specs(response)) == {"RA1-GICU"}


def test_the_lead_changes_the_chart_type_with_a_reason_and_can_change_it_back(
    client_for, programme
):
    client = client_for("lead")
    url = _url("measure_chart_settings", measure_slug="clabsi-rate")
    response = client.post(
        url,
        {"chart": "i", "rules": "mdc", "y_scale": "shared", "reason": "MDC board", "version": 0},
    )
    assert response.status_code == 302
    saved = ChartSettings.objects.get(measure__slug="clabsi-rate")
    assert (saved.chart, saved.rules, saved.y_scale) == ("i", "mdc", "shared")
    event = Event.objects.filter(verb="measure.chart_changed").latest("pk")
    assert (
        event.payload["before"]["chart"] == "u" and event.payload["after"]["reason"] == "MDC board"
    )
    page = client.get(_url("measure_detail", measure_slug="clabsi-rate"))
    assert page.context["settings"].chart == "i"
    client.post(
        url, {"chart": "u", "rules": "anhoej", "y_scale": "free", "reason": "back", "version": 1}
    )
    assert ChartSettings.objects.get(measure__slug="clabsi-rate").chart == "u"


def test_a_stale_chart_settings_form_is_refused(client_for):
    client = client_for("lead")
    url = _url("measure_chart_settings", measure_slug="line-reinsertion")
    data = {"chart": "pp", "rules": "anhoej", "y_scale": "free", "reason": "overdispersed"}
    client.post(url, {**data, "version": 0})
    response = client.post(url, {**data, "chart": "run", "version": 0}, follow=True)
    assert "changed by someone else" in response.text
    assert ChartSettings.objects.get(measure__slug="line-reinsertion").chart == "pp"


@pytest.mark.parametrize("persona", ["site_a", "facilitator", "evaluator"])
def test_only_leads_change_chart_settings(persona, client_for):
    response = client_for(persona).post(
        _url("measure_chart_settings", measure_slug="clabsi-rate"),
        {"chart": "i", "rules": "anhoej", "y_scale": "free", "reason": "x", "version": 0},
    )
    assert response.status_code == 403


def test_a_site_lead_adds_a_phase_with_a_reason_and_it_splits_the_limits(client_for, site):
    unit = site("RA1-GICU")
    client = client_for("site_a")
    response = client.post(
        _url("measure_adjustment", measure_slug="bundle-compliance"),
        {"site": unit.pk, "kind": "phase", "on": "2025-03-01", "reason": "New process from March"},
    )
    assert response.status_code == 302
    page = client.get(_url("measure_detail", measure_slug="bundle-compliance"))
    points = _specs(page)["RA1-GICU"]["chart"].points
    assert {p["part"] for p in points} >= {1, 2}
    assert "New process from March" in page.text
    adj = ChartAdjustment.objects.get(site=unit, reason="New process from March")
    client.post(
        _url("measure_adjustment_withdraw", measure_slug="bundle-compliance", adjustment_id=adj.pk)
    )
    adj.refresh_from_db()
    assert adj.withdrawn_at is not None
    assert Event.objects.filter(verb="chart.phase_withdrawn", site=unit).exists()


def test_excluding_a_point_needs_a_value_for_that_period(client_for, site):
    response = client_for("site_a").post(
        _url("measure_adjustment", measure_slug="bundle-compliance"),
        {"site": site("RA1-GICU").pk, "kind": "exclude", "on": "1999-01-01", "reason": "typo"},
        follow=True,
    )
    assert "There is no" in response.text
    assert not ChartAdjustment.objects.filter(on=date(1999, 1, 1)).exists()


@pytest.mark.parametrize("persona", ["site_a", "member_a", "patient"])
def test_chart_changes_for_another_site_or_by_members_are_refused(persona, client_for, site):
    target = site("RB1-GICU") if persona == "site_a" else site("RA1-GICU")
    before = ChartAdjustment.objects.filter(site=target).count()
    response = client_for(persona).post(
        _url("measure_adjustment", measure_slug="bundle-compliance"),
        {"site": target.pk, "kind": "phase", "on": "2025-03-01", "reason": "x"},
    )
    assert response.status_code in (403, 404)
    assert ChartAdjustment.objects.filter(site=target).count() == before


def test_a_rebase_proposal_can_be_accepted_or_dismissed_by_the_site_lead(
    client_for, site, programme
):
    measure = Measure.objects.get(programme=programme, slug="bundle-compliance")
    settings = actions.chart_settings_for(measure)
    charts = selectors.measure_charts(
        measure, list(programme.enrolments.values_list("site_id", flat=True)), settings
    )
    proposed = {sid: sc.proposal for sid, sc in charts.sites.items() if sc.proposal}
    assert proposed, "the demo's adoption shifts should produce rebase proposals"
    unit = site("RA1-GICU")
    client = client_for("site_a")
    target_id = unit.pk if unit.pk in proposed else None
    if target_id is None:  # use the lead for any site with a proposal
        client, target_id = client_for("lead"), next(iter(proposed))
    on = proposed[target_id]["on"].isoformat()
    url = _url("measure_rebase", measure_slug="bundle-compliance", site_id=target_id)
    client.post(url, {"on": on, "decision": "dismiss"})
    after = selectors.measure_charts(measure, [target_id], settings)
    assert after.sites[target_id].proposal is None
    assert ChartAdjustment.objects.filter(site_id=target_id, kind="dismissed").exists()
    client.post(url, {"on": on, "decision": "accept"})
    adj = ChartAdjustment.objects.get(site_id=target_id, kind="phase", measure=measure)
    assert adj.reason.startswith("Accepted proposed rebase")


def test_the_demo_records_chart_decisions_with_reasons(client_for, programme):
    response = client_for("lead").get(_url("measure_detail", measure_slug="bundle-compliance"))
    assert response.context["settings"].y_scale == "shared"
    assert "Compare units on one scale" in response.text
    kinds = set(ChartAdjustment.objects.values_list("kind", flat=True))
    assert {"phase", "exclude"} <= kinds
    assert Event.objects.filter(verb="chart.phase_added").exists()


def test_a_registered_annotation_provider_shows_on_the_chart_and_in_the_list(client_for, site):
    from spreadscale.web.measurement import annotations

    unit = site("RA1-GICU")

    def provider(access, measure, site_ids):
        if unit.pk in site_ids:
            yield annotations.Annotation(
                on=date(2025, 2, 1), site_id=unit.pk, kind="test-kind", label="Cycle 3"
            )

    annotations.register("test-kind", provider)
    try:
        response = client_for("site_a").get(_url("measure_detail", measure_slug="clabsi-rate"))
    finally:
        annotations._providers.pop("test-kind")
    assert '<li data-kind="test-kind">' in response.text
    layer = next(x for x in _specs(response)["RA1-GICU"]["spec"]["layer"] if "data" in x)
    assert {"on": "2025-02-01", "kind": "test-kind", "label": "Cycle 3", "detail": ""} in layer[
        "data"
    ]["values"]
