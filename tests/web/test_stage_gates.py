"""Stage gates: criteria computed from a site's data, and phase moves that override them with a reason."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from spreadscale.web.core.models import Enrolment, Event, PhaseChange, Role
from spreadscale.web.fidelity import actions
from spreadscale.web.fidelity.gates import evaluate_gates
from spreadscale.web.fidelity.models import StageGate
from spreadscale.web.measurement.models import Measure

pytestmark = pytest.mark.django_db

# RC3-CICU enrolled late and is still preparing; nobody is named its site lead.
PREPARING = "RC3-CICU"


def _enrolment(programme, code):
    return Enrolment.objects.select_related("site").get(programme=programme, site__code=code)


def test_the_site_page_shows_which_gates_are_met_computed_from_the_data(client_for, site):
    page = client_for("lead").get(f"/p/clabsi/sites/{site('RA1-GICU').pk}/").content.decode()
    assert "Before sustaining" in page
    assert "Met</span>: At least three in four core functions kept" in page
    assert "site lead: Sam Whitfield" in page
    unmet = client_for("lead").get(f"/p/clabsi/sites/{site(PREPARING).pk}/").content.decode()
    assert "Not met</span>: A site lead named for the unit" in unmet
    assert "no site lead named for this site" in unmet


def test_moving_past_an_unmet_gate_without_a_reason_is_refused(client_for, site, programme):
    enrolment = _enrolment(programme, PREPARING)
    response = client_for("lead").post(
        f"/p/clabsi/sites/{enrolment.site_id}/phase-gated/",
        {
            "to_phase": "implementing",
            "effective_on": "2026-06-01",
            "reason": "Ready, says the unit",
            "version": enrolment.version,
        },
    )
    assert response.status_code == 422
    assert "Not met: A site lead named for the unit" in response.content.decode()
    enrolment.refresh_from_db()
    assert enrolment.phase == "preparing"


def test_an_override_records_who_decided_why_and_which_criterion_was_overridden(
    client_for, site, programme
):
    enrolment = _enrolment(programme, PREPARING)
    gate = StageGate.objects.get(programme=programme, kind="role_in_place")
    response = client_for("lead").post(
        f"/p/clabsi/sites/{enrolment.site_id}/phase-gated/",
        {
            "to_phase": "implementing",
            "effective_on": "2026-06-01",
            "reason": "Bundle in use on every shift",
            "version": enrolment.version,
            f"override_{gate.pk}": "The matron leads the unit until a site lead is appointed",
        },
    )
    assert response.status_code == 302
    change = PhaseChange.objects.filter(enrolment=enrolment).last()
    assert (change.to_phase, change.changed_by.username) == ("implementing", "lead")
    override = Event.objects.get(verb="stage_gate.overridden", site=enrolment.site)
    assert override.actor.username == "lead"
    assert override.payload["reason"].startswith("The matron leads")
    assert override.payload["phase_change"] == change.pk
    assert override.payload["detail"] == "no site lead named for this site"


def test_a_move_with_every_gate_met_needs_no_override(site, programme, user):
    enrolment = _enrolment(programme, "RA1-GICU")
    actions.create_stage_gate(
        user("lead"), programme, to_phase="testing", kind="fidelity_score", threshold=0.5
    )
    assert all(r.met for r in evaluate_gates(enrolment, "testing"))
    actions.move_phase(
        user("lead"),
        enrolment,
        to_phase="testing",
        effective_on=date(2026, 7, 1),
        reason="Testing a new version of the bundle",
    )
    assert not Event.objects.filter(verb="stage_gate.overridden", site=enrolment.site).exists()


def test_a_measure_gate_reads_the_last_points_and_a_deleted_measure_fails_with_a_message(
    programme, user
):
    clabsi = Measure.objects.get(programme=programme, slug="clabsi-rate")
    gate = actions.create_stage_gate(
        user("lead"),
        programme,
        to_phase="testing",
        kind="measure_stable",
        measure=clabsi,
        n_points=6,
    )
    enrolment = _enrolment(programme, "RA1-GICU")
    [result] = evaluate_gates(enrolment, "testing")
    assert result.met and "over the last 6 points" in result.detail
    clabsi.delete()
    gate.refresh_from_db()
    [result] = evaluate_gates(enrolment, "testing")
    assert not result.met and "deleted" in result.detail
    with pytest.raises(ValidationError) as exc:
        actions.create_stage_gate(
            user("lead"),
            programme,
            to_phase="testing",
            kind="measure_stable",
            measure_slug="clabsi-rate",
            n_points=6,
        )
    assert "may have been deleted" in exc.value.message_dict["measure"][0]


def test_a_measure_gate_with_more_points_than_the_site_has_is_not_met(programme, user):
    clabsi = Measure.objects.get(programme=programme, slug="clabsi-rate")
    actions.create_stage_gate(
        user("lead"),
        programme,
        to_phase="testing",
        kind="measure_stable",
        measure=clabsi,
        n_points=500,
    )
    [result] = evaluate_gates(_enrolment(programme, "RA1-GICU"), "testing")
    assert not result.met and "needs 500" in result.detail


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "fidelity_score", "threshold": 75}, "threshold"),
        ({"kind": "measure_stable", "n_points": 6}, "measure"),
        ({"kind": "measure_stable", "measure_slug": "clabsi-rate", "n_points": 1}, "n_points"),
        ({"kind": "role_in_place", "role": "captain"}, "role"),
        ({"kind": "vibes"}, "kind"),
    ],
)
def test_a_stage_gate_with_bad_settings_is_refused_naming_the_field(programme, user, fields, field):
    with pytest.raises(ValidationError) as exc:
        actions.create_stage_gate(user("lead"), programme, to_phase="testing", **fields)
    assert field in exc.value.message_dict


def test_only_the_programme_lead_sets_stage_gates(client_for):
    data = {"to_phase": "testing", "kind": "role_in_place", "role": Role.FACILITATOR}
    assert client_for("site_a").post("/p/clabsi/stage-gates/", data).status_code == 403
    assert client_for("evaluator").post("/p/clabsi/stage-gates/", data).status_code == 403
    response = client_for("lead").post("/p/clabsi/stage-gates/", data)
    assert response.status_code == 302
    assert StageGate.objects.filter(to_phase="testing", role="facilitator").exists()
    assert Event.objects.filter(verb="stage_gate.created").exists()


def test_the_lead_removes_a_stage_gate(client_for, programme):
    gate = StageGate.objects.get(programme=programme, kind="role_in_place")
    response = client_for("lead").post("/p/clabsi/stage-gates/", {"delete": gate.pk})
    assert response.status_code == 302
    assert not StageGate.objects.filter(pk=gate.pk).exists()
    assert Event.objects.filter(verb="stage_gate.deleted", object_id=str(gate.pk)).exists()


def test_the_api_evaluates_gates_and_moves_phase_with_an_override(client_for, programme):
    client = client_for("lead")
    gates = client.get(
        f"/api/programmes/clabsi/sites/{PREPARING}/stage-gates?to_phase=implementing"
    )
    assert gates.status_code == 200
    [row] = gates.json()
    assert row["met"] is False and row["gate"]["kind"] == "role_in_place"
    refused = client.post(
        f"/api/programmes/clabsi/sites/{PREPARING}/phase-moves",
        {"to_phase": "implementing", "effective_on": "2026-06-01", "reason": "Go"},
        content_type="application/json",
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "overrides"
    moved = client.post(
        f"/api/programmes/clabsi/sites/{PREPARING}/phase-moves",
        {
            "to_phase": "implementing",
            "effective_on": "2026-06-01",
            "reason": "Go",
            "overrides": {str(row["gate"]["id"]): "Interim lead in post"},
        },
        content_type="application/json",
    )
    assert moved.status_code == 201
    assert moved.json()["overridden"] == [row["gate"]["id"]]


def test_a_site_team_member_cannot_move_phase(client_for, site):
    response = client_for("member_a").post(
        "/api/programmes/clabsi/sites/RA1-GICU/phase-moves",
        {"to_phase": "testing", "effective_on": "2026-07-01", "reason": "x"},
        content_type="application/json",
    )
    assert response.status_code == 403


def test_the_api_deletes_a_stage_gate_for_the_lead_only(client_for, programme):
    gate = StageGate.objects.get(programme=programme, kind="role_in_place")
    url = f"/api/programmes/clabsi/stage-gates/{gate.pk}"
    for persona in ("site_a", "facilitator", "patient", "evaluator"):
        assert client_for(persona).delete(url).status_code == 403
    assert client_for("outsider").delete(url).status_code == 404
    assert StageGate.objects.filter(pk=gate.pk).exists()
    lead = client_for("lead")
    assert lead.delete(url).status_code == 204
    assert not StageGate.objects.filter(pk=gate.pk).exists()
    event = Event.objects.get(verb="stage_gate.deleted", object_id=str(gate.pk))
    assert event.actor.username == "lead" and event.payload["kind"] == "role_in_place"
    assert lead.delete(url).status_code == 404
    assert gate.pk not in {g["id"] for g in lead.get("/api/programmes/clabsi/stage-gates").json()}
