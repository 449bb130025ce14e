"""Correcting a fidelity assessment: the score and its observation follow, the earlier ratings
stay readable, a stale edit is refused, and only those who record a site's assessments may."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from spreadscale.web.core.errors import StaleEdit
from spreadscale.web.core.models import Component, Event
from spreadscale.web.fidelity import actions
from spreadscale.web.fidelity.models import FidelityAssessment, FidelityAssessmentRevision
from spreadscale.web.measurement.models import Observation

pytestmark = pytest.mark.django_db

QUARTER = date(2026, 7, 1)  # after the demo's last assessment
API = "/api/programmes/clabsi/fidelity/assessments"


def _core(programme):
    return list(
        Component.objects.filter(
            intervention__programme=programme, kind=Component.Kind.CORE_FUNCTION
        ).order_by("order")
    )


@pytest.fixture
def assessed(programme, site, user):
    """RA1-GICU's assessment of the quarter: three of four core functions kept."""
    return actions.record_assessment(
        user("site_a"),
        programme,
        site("RA1-GICU"),
        period_start=QUARTER,
        ratings=[
            actions.RatingInput(c.pk, rating, f"EVIDENCE-{i}")
            for i, (c, rating) in enumerate(
                zip(
                    _core(programme),
                    ["intended", "intended", "adapted_kept", "adapted_lost"],
                    strict=True,
                )
            )
        ],
        note="PRIVATE-NOTE-BEFORE",
    )


def _ratings(programme, codes, evidence="Checked again"):
    return [
        actions.RatingInput(c.pk, code, evidence)
        for c, code in zip(_core(programme), codes, strict=True)
    ]


def _form(a, programme, codes, *, note="Corrected after the audit", version=None):
    data = {"note": note, "version": a.version if version is None else version}
    for c, code in zip(_core(programme), codes, strict=True):
        data[f"rating_{c.pk}"] = code
        data[f"evidence_{c.pk}"] = f"Evidence for {c.name}"
    return data


def _url(a):
    return f"/p/clabsi/sites/{a.site_id}/fidelity/{a.pk}/correct/"


def test_a_correction_recomputes_the_score_and_rewrites_the_quarters_observation(
    assessed, programme, user
):
    core = _core(programme)
    obs = Observation.objects.get(
        measure__slug="fidelity-score", site=assessed.site, period_start=QUARTER
    )
    assert (obs.numerator, obs.denominator) == (3, 4)
    a = actions.revise_assessment(
        user("lead"),
        assessed,
        _ratings(programme, ["intended", "not_delivered", "adapted_kept", "adapted_lost"]),
        "Line review was not done in August",
        assessed.version,
    )
    assert a.version == 2 and a.score == pytest.approx(2 / 4)
    assert a.note == "Line review was not done in August"
    assert a.assessor.username == "site"  # who assessed; the correction is recorded apart
    assert {r.component_id: r.rating for r in a.ratings.all()}[core[1].pk] == "not_delivered"
    obs.refresh_from_db()
    assert (obs.numerator, obs.denominator) == (2, 4)
    assert obs.display_value == pytest.approx(50.0)
    assert [(r.numerator, r.denominator) for r in obs.revisions.all()] == [(3, 4)]
    revision = FidelityAssessmentRevision.objects.get(assessment=a)
    assert revision.version == 1 and revision.score == pytest.approx(3 / 4)
    assert revision.note == "PRIVATE-NOTE-BEFORE" and revision.assessor.username == "site"
    assert revision.revised_by.username == "lead"
    assert [(r["component"], r["rating"]) for r in revision.ratings] == list(
        zip(
            [c.pk for c in core],
            ["intended", "intended", "adapted_kept", "adapted_lost"],
            strict=True,
        )
    )
    assert revision.ratings[0]["evidence"] == "EVIDENCE-0"


def test_the_correction_is_an_event_naming_the_functions_whose_rating_changed(
    assessed, programme, user
):
    core = _core(programme)
    actions.revise_assessment(
        user("site_a"),
        assessed,
        _ratings(programme, ["intended", "not_delivered", "adapted_kept", "intended"]),
        "",
        assessed.version,
    )
    event = Event.objects.get(verb="fidelity.assessment_revised", object_id=str(assessed.pk))
    assert event.actor.username == "site" and event.site_id == assessed.site_id
    assert event.payload["changed"] == {
        str(core[1].pk): {"from": "intended", "to": "not_delivered"},
        str(core[3].pk): {"from": "adapted_lost", "to": "intended"},
    }
    assert event.payload["previous_score"] == pytest.approx(0.75)
    summary = event.summary
    assert core[1].name in summary and core[3].name in summary
    assert core[0].name not in summary
    assert "from delivered as intended to not delivered" in summary
    assert "75% of core functions kept" in summary


def test_a_stale_correction_is_refused_and_overwrites_nothing(assessed, programme, user):
    first = _ratings(programme, ["intended"] * 4)
    actions.revise_assessment(user("site_a"), assessed, first, "First fix", 1)
    stale = FidelityAssessment.objects.get(pk=assessed.pk)
    with pytest.raises(StaleEdit):
        actions.revise_assessment(
            user("lead"), stale, _ratings(programme, ["not_delivered"] * 4), "Second", 1
        )
    a = FidelityAssessment.objects.get(pk=assessed.pk)
    assert a.version == 2 and a.note == "First fix" and a.score == 1.0
    assert a.revisions.count() == 1
    assert {r.rating for r in a.ratings.all()} == {"intended"}


def test_a_correction_is_checked_as_a_new_assessment_is_and_a_refusal_changes_nothing(
    assessed, programme, user
):
    form = Component.objects.get(
        intervention__programme=programme, name="Insertion checklist format"
    )
    for ratings, message in (
        ([actions.RatingInput(form.pk, "intended")], "not a core function"),
        ([actions.RatingInput(_core(programme)[0].pk, "mostly")], "Unknown rating"),
        ([], "Rate at least one core function"),
        (_ratings(programme, ["not_assessed"] * 4), "cannot withdraw"),
    ):
        with pytest.raises(ValidationError) as exc:
            # A refusal leaves the caller's instance as it was: its version is still good.
            actions.revise_assessment(user("site_a"), assessed, ratings, "", assessed.version)
        assert message in exc.value.message_dict["ratings"][0]
    with pytest.raises(ValidationError) as exc:  # the very same ratings, evidence and note
        actions.revise_assessment(
            user("site_a"),
            assessed,
            [
                actions.RatingInput(r.component_id, r.rating, r.evidence)
                for r in assessed.ratings.all()
            ],
            "PRIVATE-NOTE-BEFORE",
            assessed.version,
        )
    assert "Nothing was changed" in exc.value.messages[0]
    assert assessed.version == 1
    a = FidelityAssessment.objects.get(pk=assessed.pk)
    assert a.version == 1 and not a.revisions.exists()
    assert not Event.objects.filter(
        verb="fidelity.assessment_revised", object_id=str(assessed.pk)
    ).exists()


def test_a_function_retired_since_stays_correctable_on_the_assessment_that_rated_it(
    assessed, programme, user
):
    core = _core(programme)
    actions.retire_component(user("lead"), core[3])
    a = actions.revise_assessment(
        user("site_a"),
        assessed,
        _ratings(programme, ["intended", "intended", "adapted_kept", "intended"]),
        "",
        1,
    )
    assert a.score == 1.0
    # Left out, it is recorded as not assessed, as in a new assessment.
    a = actions.revise_assessment(
        user("site_a"), a, _ratings(programme, ["intended"] * 4)[:3], "", 2
    )
    assert {r.component_id: r.rating for r in a.ratings.all()}[core[3].pk] == "not_assessed"


def test_the_site_page_offers_correct_to_the_sites_team_and_prefills_the_form(
    assessed, client_for, programme
):
    page = client_for("site_a").get(f"/p/clabsi/sites/{assessed.site_id}/fidelity/")
    assert _url(assessed) in page.content.decode()
    for persona in ("patient", "viewer", "evaluator"):
        other = client_for(persona).get(f"/p/clabsi/sites/{assessed.site_id}/fidelity/")
        assert _url(assessed) not in other.content.decode(), persona
    form = client_for("site_a").get(_url(assessed))
    assert form.status_code == 200
    context = form.context["form"]
    core = _core(programme)
    assert context.initial[f"rating_{core[3].pk}"] == "adapted_lost"
    assert context.initial[f"evidence_{core[0].pk}"] == "EVIDENCE-0"
    assert context.initial["note"] == "PRIVATE-NOTE-BEFORE"
    html = form.content.decode()
    assert 'name="version" value="1"' in html and "EVIDENCE-0" in html
    assert 'name="period_start"' not in html


@pytest.mark.parametrize("persona", ["lead", "site_a", "member_a"])
def test_the_lead_and_the_sites_team_correct_an_assessment_on_the_page(
    persona, assessed, client_for, programme
):
    response = client_for(persona).post(
        _url(assessed), _form(assessed, programme, ["intended"] * 4)
    )
    assert response.status_code == 302
    a = FidelityAssessment.objects.get(pk=assessed.pk)
    assert a.version == 2 and a.score == 1.0 and a.note == "Corrected after the audit"


@pytest.mark.parametrize(
    ("persona", "status"),
    [("site_b", 403), ("patient", 403), ("viewer", 403), ("evaluator", 403), ("outsider", 404)],
)
def test_others_may_not_correct_an_assessment(persona, status, assessed, client_for, programme):
    client = client_for(persona)
    assert client.get(_url(assessed)).status_code == status
    data = _form(assessed, programme, ["intended"] * 4)
    assert client.post(_url(assessed), data).status_code == status
    body = {"ratings": [{"component": c.pk, "rating": "intended"} for c in _core(programme)]}
    api = client.put(f"{API}/{assessed.pk}", body | {"version": 1}, content_type="application/json")
    # The API hides what the role may not read (another site's, a non-member's): 404.
    assert api.status_code == (404 if persona in ("site_b", "outsider") else 403), persona
    a = FidelityAssessment.objects.get(pk=assessed.pk)
    assert a.version == 1 and a.score == pytest.approx(0.75)


def test_a_stale_form_says_so_and_keeps_the_other_persons_correction(
    assessed, client_for, programme
):
    lead = client_for("lead")
    assert (
        lead.post(_url(assessed), _form(assessed, programme, ["intended"] * 4)).status_code == 302
    )
    stale = client_for("site_a").post(
        _url(assessed), _form(assessed, programme, ["not_delivered"] * 4, version=1)
    )
    assert stale.status_code == 422
    assert "changed by someone else after you opened it" in stale.content.decode()
    a = FidelityAssessment.objects.get(pk=assessed.pk)
    assert a.score == 1.0 and a.version == 2


def test_a_bad_rating_on_the_form_is_reported_by_field(assessed, client_for, programme):
    core = _core(programme)
    data = _form(assessed, programme, ["intended"] * 4) | {f"rating_{core[2].pk}": "mostly"}
    response = client_for("site_a").post(_url(assessed), data)
    assert response.status_code == 422
    assert response.context["form"].errors.keys() == {f"rating_{core[2].pk}"}
    assert f"{core[2].name}: Select a valid choice" in response.content.decode()
    assert FidelityAssessment.objects.get(pk=assessed.pk).version == 1


def test_the_history_shows_the_correction_and_patients_see_earlier_ratings_not_notes(
    assessed, client_for, programme, user
):
    client_for("lead").post(
        _url(assessed),
        _form(assessed, programme, ["intended", "not_delivered", "intended", "intended"]),
    )
    team = client_for("site_a").get(f"/p/clabsi/sites/{assessed.site_id}/fidelity/")
    html = team.content.decode()
    assert "Corrections: what assessments said before" in html
    assert f"by {user('lead').get_full_name()}" in html and "version 1 (75%)" in html
    assert "EVIDENCE-3" in html and "PRIVATE-NOTE-BEFORE" in html
    patient = client_for("patient").get(f"/p/clabsi/sites/{assessed.site_id}/fidelity/")
    html = patient.content.decode()
    assert "version 1 (75%)" in html and "Adapted, function lost" in html
    assert "EVIDENCE-3" not in html and "PRIVATE-NOTE-BEFORE" not in html
    assert "Corrected after the audit" not in html
    api = client_for("patient").get(f"{API}/{assessed.pk}").json()
    assert api["corrected_by"] == "lead" and api["revisions"][0]["score"] == 0.75
    assert api["revisions"][0]["note"] is None
    assert {r["evidence"] for r in api["revisions"][0]["ratings"]} == {None}
    assert api["revisions"][0]["ratings"][3]["rating"] == "adapted_lost"


def test_the_api_corrects_an_assessment_with_the_version_it_read(client_for, programme):
    core = _core(programme)
    client = client_for("site_a")
    created = client.post(
        API,
        {
            "site": "RA1-GICU",
            "period_start": QUARTER.isoformat(),
            "ratings": [{"component": c.pk, "rating": "intended"} for c in core],
            "note": "All good",
        },
        content_type="application/json",
    )
    assert created.status_code == 201
    pk, version = created.json()["id"], created.json()["version"]
    read = client.get(f"{API}/{pk}").json()
    assert read["version"] == version == 1 and read["revisions"] == []
    body = {
        "site": "RA1-GICU",
        "period_start": QUARTER.isoformat(),
        "ratings": [
            {"component": core[0].pk, "rating": "intended"},
            {"component": core[1].pk, "rating": "adapted_lost", "evidence": "Weekly, not daily"},
        ],
        "note": "Line review corrected",
        "version": version,
    }
    put = client.put(f"{API}/{pk}", body, content_type="application/json")
    assert put.status_code == 200, put.content
    out = put.json()
    assert out["score"] == 0.5 and out["version"] == 2 and out["corrected_by"] == "site"
    assert [c["id"] for c in out["omitted"]] == [c.pk for c in core[2:]]
    assert out["revisions"][0]["ratings"][1] == {
        "component": core[1].name,
        "rating": "intended",
        "evidence": "",
    }
    obs = Observation.objects.get(
        measure__slug="fidelity-score", site__code="RA1-GICU", period_start=QUARTER
    )
    assert (obs.numerator, obs.denominator) == (1, 2) and obs.revisions.count() == 1

    again = client.put(f"{API}/{pk}", body, content_type="application/json")  # version 1 again
    assert again.status_code == 422
    assert again.json()["detail"] == "The request has errors; nothing was saved."
    assert "changed by someone else" in again.json()["errors"][0]["message"]
    bad = client.put(
        f"{API}/{pk}",
        body | {"version": 2, "ratings": [{"component": core[0].pk, "rating": "mostly"}]},
        content_type="application/json",
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "ratings"
    moved = client.put(
        f"{API}/{pk}", body | {"version": 2, "site": "RB1-GICU"}, content_type="application/json"
    )
    assert moved.status_code == 422 and moved.json()["errors"][0]["field"] == "site"
    missing = client.put(f"{API}/{pk}", {"ratings": []}, content_type="application/json")
    assert missing.status_code == 422
    assert FidelityAssessment.objects.get(pk=pk).version == 2


def test_a_correction_that_leaves_out_evidence_or_the_note_keeps_them(
    client_for, programme, assessed
):
    core = _core(programme)
    before = {r.component_id: r.evidence for r in assessed.ratings.all()}
    body = {
        "ratings": [
            {"component": c.pk, "rating": "intended"} for c in core[:3]
        ]  # no evidence sent: each function keeps what it had
        + [{"component": core[3].pk, "rating": "intended", "evidence": "Now daily"}],
        "version": assessed.version,
    }
    put = client_for("site_a").put(f"{API}/{assessed.pk}", body, content_type="application/json")
    assert put.status_code == 200, put.content
    after = FidelityAssessment.objects.get(pk=assessed.pk)
    evidence = {r.component_id: r.evidence for r in after.ratings.all()}
    assert [evidence[c.pk] for c in core[:3]] == [before[c.pk] for c in core[:3]]
    assert evidence[core[3].pk] == "Now daily"
    assert after.note == assessed.note != ""


def test_an_out_of_range_component_id_is_a_422_not_a_server_error(client_for, assessed):
    body = {
        "ratings": [{"component": 2**70, "rating": "intended"}],
        "version": assessed.version,
    }
    client = client_for("site_a")
    put = client.put(f"{API}/{assessed.pk}", body, content_type="application/json")
    assert put.status_code == 422
    assert put.json()["errors"][0]["field"].startswith("ratings")
    post = client.post(
        API,
        {"site": "RA1-GICU", "period_start": "2026-10-01"} | body,
        content_type="application/json",
    )
    assert post.status_code == 422
