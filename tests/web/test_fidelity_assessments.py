"""Fidelity assessments: ratings of core functions per site and quarter, the score as a measure."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from spreadscale.web.core.models import Component, Event
from spreadscale.web.fidelity import actions
from spreadscale.web.fidelity.models import FidelityAssessment
from spreadscale.web.measurement.models import Observation

pytestmark = pytest.mark.django_db

QUARTER = date(2026, 7, 1)  # after the demo's last assessment


def _core(programme):
    return list(
        Component.objects.filter(
            intervention__programme=programme, kind=Component.Kind.CORE_FUNCTION
        ).order_by("order")
    )


def _post(client, unit, programme, ratings, **extra):
    data = {"period_start": QUARTER.isoformat(), "note": "Seen on the night shift."} | extra
    for c, rating in zip(_core(programme), ratings, strict=True):
        data[f"rating_{c.pk}"] = rating
        data[f"evidence_{c.pk}"] = f"Audit of {c.name}"
    return client.post(f"/p/clabsi/sites/{unit.pk}/fidelity/", data)


def test_a_site_team_rates_its_core_functions_and_gets_a_score_event_and_observation(
    client_for, site, programme
):
    unit = site("RA1-GICU")
    response = _post(
        client_for("site_a"),
        unit,
        programme,
        ["intended", "adapted_kept", "adapted_lost", "not_assessed"],
    )
    assert response.status_code == 302
    a = FidelityAssessment.objects.get(site=unit, period_start=QUARTER)
    assert a.score == pytest.approx(2 / 3)
    assert a.period_end == date(2026, 9, 30)
    assert a.assessor.username == "site"
    assert a.ratings.count() == 4
    assert Event.objects.filter(verb="fidelity.assessed", object_id=str(a.pk)).exists()
    obs = Observation.objects.get(measure__slug="fidelity-score", site=unit, period_start=QUARTER)
    assert (obs.numerator, obs.denominator, obs.granularity) == (2, 3, "quarter")
    assert obs.display_value == pytest.approx(200 / 3)


def test_rating_an_adaptable_form_as_a_core_function_is_refused(site, programme, user):
    form = Component.objects.get(
        intervention__programme=programme, name="Insertion checklist format"
    )
    with pytest.raises(ValidationError) as exc:
        actions.record_assessment(
            user("site_a"),
            programme,
            site("RA1-GICU"),
            period_start=QUARTER,
            ratings=[actions.RatingInput(form.pk, "intended")],
        )
    assert "not a core function" in exc.value.message_dict["ratings"][0]
    assert not FidelityAssessment.objects.filter(period_start=QUARTER).exists()


def test_a_period_that_is_not_a_quarter_and_a_second_assessment_of_a_quarter_are_refused(
    site, programme, user
):
    core = _core(programme)
    ratings = [actions.RatingInput(c.pk, "intended") for c in core]
    with pytest.raises(ValidationError) as exc:
        actions.record_assessment(
            user("site_a"),
            programme,
            site("RA1-GICU"),
            period_start=date(2026, 8, 1),
            ratings=ratings,
        )
    assert "period_start" in exc.value.message_dict
    actions.record_assessment(
        user("site_a"), programme, site("RA1-GICU"), period_start=QUARTER, ratings=ratings
    )
    with pytest.raises(ValidationError) as exc:
        actions.record_assessment(
            user("site_a"), programme, site("RA1-GICU"), period_start=QUARTER, ratings=ratings
        )
    assert "already has an assessment" in exc.value.message_dict["period_start"][0]


def test_the_form_reports_a_bad_quarter_by_field_and_saves_nothing(client_for, site, programme):
    response = _post(
        client_for("site_a"),
        site("RA1-GICU"),
        programme,
        ["intended"] * 4,
        period_start="2026-08-01",
    )
    assert response.status_code == 422
    assert "Quarter starting:" in response.content.decode()
    assert not FidelityAssessment.objects.filter(period_start=date(2026, 8, 1)).exists()


def test_a_component_with_ratings_cannot_be_deleted(programme, user):
    core = _core(programme)[0]
    with pytest.raises(ValidationError) as exc:
        actions.delete_component(user("lead"), core)
    assert "retire it instead" in exc.value.message_dict["component"][0]


def test_patient_partners_see_the_fidelity_history_but_not_the_private_notes_or_evidence(
    client_for, site, programme, user
):
    unit = site("RA1-GICU")
    core = _core(programme)
    actions.record_assessment(
        user("site_a"),
        programme,
        unit,
        period_start=QUARTER,
        ratings=[actions.RatingInput(c.pk, "intended", "PRIVATE-EVIDENCE") for c in core],
        note="PRIVATE-NOTE",
    )
    team = client_for("site_a").get(f"/p/clabsi/sites/{unit.pk}/fidelity/").content.decode()
    assert "PRIVATE-NOTE" in team and "PRIVATE-EVIDENCE" in team
    response = client_for("patient").get(f"/p/clabsi/sites/{unit.pk}/fidelity/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Jul 2026" in page
    assert "PRIVATE-NOTE" not in page and "PRIVATE-EVIDENCE" not in page
    assert "Record an assessment" not in page
    api = client_for("patient").get("/api/programmes/clabsi/fidelity/assessments?site=RA1-GICU")
    latest = api.json()[-1]
    assert latest["note"] is None and {r["evidence"] for r in latest["ratings"]} == {None}


def test_only_the_sites_team_may_record_its_assessment(client_for, site, programme):
    unit = site("RA1-GICU")
    assert _post(client_for("patient"), unit, programme, ["intended"] * 4).status_code == 403
    assert _post(client_for("evaluator"), unit, programme, ["intended"] * 4).status_code == 403
    assert _post(client_for("site_b"), unit, programme, ["intended"] * 4).status_code == 403
    assert _post(client_for("outsider"), unit, programme, ["intended"] * 4).status_code == 404


def test_the_api_records_an_assessment_and_names_a_bad_rating(client_for, programme):
    core = _core(programme)
    client = client_for("site_a")
    bad = client.post(
        "/api/programmes/clabsi/fidelity/assessments",
        {
            "site": "RA1-GICU",
            "period_start": QUARTER.isoformat(),
            "ratings": [{"component": core[0].pk, "rating": "mostly"}],
        },
        content_type="application/json",
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "ratings"
    good = client.post(
        "/api/programmes/clabsi/fidelity/assessments",
        {
            "site": "RA1-GICU",
            "period_start": QUARTER.isoformat(),
            "ratings": [{"component": c.pk, "rating": "intended"} for c in core],
        },
        content_type="application/json",
    )
    assert good.status_code == 201
    assert good.json()["score"] == 1.0


def test_the_fidelity_score_charts_on_the_measure_page_like_any_other_measure(client_for):
    response = client_for("lead").get("/p/clabsi/measures/fidelity-score/?site=RA1-GICU")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Fidelity score (core functions kept)" in page
    assert 'id="site-' in page


def test_core_functions_left_out_of_an_api_assessment_are_recorded_as_not_assessed(
    client_for, programme
):
    core = _core(programme)
    response = client_for("site_a").post(
        "/api/programmes/clabsi/fidelity/assessments",
        {
            "site": "RA1-GICU",
            "period_start": QUARTER.isoformat(),
            "ratings": [
                {"component": core[0].pk, "rating": "intended"},
                {"component": core[1].pk, "rating": "adapted_lost"},
            ],
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert [c["name"] for c in body["omitted"]] == [c.name for c in core[2:]]
    assert body["score"] == 0.5  # of the two assessed; the others are left out of the score
    a = FidelityAssessment.objects.get(site__code="RA1-GICU", period_start=QUARTER)
    assert {r.component_id: r.rating for r in a.ratings.all()} == {
        core[0].pk: "intended",
        core[1].pk: "adapted_lost",
        core[2].pk: "not_assessed",
        core[3].pk: "not_assessed",
    }
    event = Event.objects.get(verb="fidelity.assessed", object_id=str(a.pk))
    assert event.payload["ratings"][str(core[3].pk)] == "not_assessed"
    matrix = client_for("lead").get("/api/programmes/clabsi/fidelity/matrix").json()
    row = next(r for r in matrix["rows"] if r["site"] == "RA1-GICU")
    assert row["period_start"] == QUARTER.isoformat()
    assert [c["status"] for c in row["cells"]] == ["kept", "lost", "not_assessed", "not_assessed"]


def test_a_complete_assessment_omits_nothing_and_retired_functions_are_not_filled_in(
    client_for, programme, site, user
):
    core = _core(programme)
    actions.retire_component(None, core[3])
    a = actions.record_assessment(
        user("site_a"),
        programme,
        site("RA1-GICU"),
        period_start=QUARTER,
        ratings=[actions.RatingInput(core[0].pk, "intended")],
    )
    assert {r.component_id for r in a.ratings.all()} == {c.pk for c in core[:3]}
    response = client_for("site_a").post(
        "/api/programmes/clabsi/fidelity/assessments",
        {
            "site": "RA1-GICU",
            "period_start": "2026-10-01",
            "ratings": [{"component": c.pk, "rating": "intended"} for c in core[:3]],
        },
        content_type="application/json",
    )
    assert response.status_code == 201 and response.json()["omitted"] == []
