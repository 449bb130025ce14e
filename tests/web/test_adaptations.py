"""The adaptation log: quick entry, the full FRAME record, sharing and adopting, bad input."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from spreadscale.web.core import actions as core
from spreadscale.web.core.models import Component, Event
from spreadscale.web.fidelity import actions
from spreadscale.web.fidelity.models import Adaptation
from spreadscale.web.measurement.annotations import annotations_for
from spreadscale.web.measurement.models import Measure
from spreadscale.web.permissions import access_for

pytestmark = pytest.mark.django_db


def _component(programme, name):
    return Component.objects.get(intervention__programme=programme, name=name)


def _essentials(**extra):
    return {
        "title": "Checklist on a tablet",
        "date_effective": date(2025, 3, 1),
        "when_phase": "implementation",
        "planned": "planned_proactive",
    } | extra


def test_quick_entry_logs_an_adaptation_with_its_essentials_and_an_event(
    client_for, site, programme
):
    unit = site("RA1-GICU")
    form = _component(programme, "Insertion checklist format")
    clabsi = Measure.objects.get(programme=programme, slug="clabsi-rate")
    response = client_for("site_a").post(
        "/p/clabsi/adaptations/new/",
        {
            "site": unit.pk,
            "title": "Checklist on a tablet",
            "date_effective": "2025-03-01",
            "when_phase": "implementation",
            "planned": "planned_reactive",
            "components": [form.pk],
            "content_types": ["packaging"],
            "measures": [clabsi.pk],
        },
    )
    assert response.status_code == 302
    a = Adaptation.objects.get(title="Checklist on a tablet")
    assert response["Location"] == f"/p/clabsi/adaptations/{a.pk}/"
    assert a.site == unit and a.fidelity == "consistent"
    assert a.fidelity_basis.startswith("Computed")
    assert list(a.measures.all()) == [clabsi]
    event = Event.objects.get(verb="adaptation.created", object_id=str(a.pk))
    assert event.actor.username == "site" and event.site_id == unit.pk


def test_quick_entry_without_the_essentials_names_each_missing_field(client_for, site):
    response = client_for("site_a").post(
        "/p/clabsi/adaptations/new/", {"site": site("RA1-GICU").pk, "title": ""}
    )
    assert response.status_code == 422
    text = response.content.decode()
    for label in ("What changed, in a line", "In use from", "When (FRAME)", "Planned or not"):
        assert f"{label}: This field is required." in text
    assert not Adaptation.objects.filter(title="").exists()


def test_a_site_cannot_log_an_adaptation_for_a_site_it_does_not_work_at(client_for, site):
    response = client_for("site_a").post(
        "/p/clabsi/adaptations/new/",
        {
            "site": site("RB1-GICU").pk,
            "title": "Not ours",
            "date_effective": "2025-03-01",
            "when_phase": "implementation",
            "planned": "planned_reactive",
        },
    )
    assert response.status_code == 422
    assert not Adaptation.objects.filter(title="Not ours").exists()


def test_the_full_record_computes_fidelity_inconsistency_from_the_core_function_it_cuts(
    client_for, site, programme, user
):
    a = actions.create_adaptation(user("site_a"), programme, site("RA1-GICU"), _essentials())
    review = _component(programme, "Daily review of line necessity")
    response = client_for("site_a").post(
        f"/p/clabsi/adaptations/{a.pk}/edit/",
        {
            "title": a.title,
            "date_effective": "2025-03-01",
            "when_phase": "implementation",
            "planned": "unplanned_reactive",
            "components": [review.pk],
            "content_types": ["removing"],
            "target": "intervention",
            "decided_by": ["individual_practitioner", "intervention_team"],
            "final_decider": "intervention_team",
            "participants": "Night nurses and a patient partner",
            "patients_involved": "on",
            "what_modified": "context",
            "context_aspects": ["personnel"],
            "level": "clinic_unit",
            "fidelity": "consistent",
            "goals": ["feasibility"],
            "reason_code_0": "organisation:workforce",
            "reason_note_0": "Two night nurses off sick",
            "reason_code_1": "recipient:crisis",
            "reason_code_2": "",
            "evidence_links": "https://example.org/audit-2025\nWard meeting minutes, 20 Feb",
            "permanence": "temporary",
            "date_decided": "2025-02-20",
            "date_ended": "2025-06-30",
            "version": a.version,
        },
    )
    assert response.status_code == 302
    a.refresh_from_db()
    # The team said "consistent", but removing a core function is computed as inconsistent.
    assert a.fidelity == "inconsistent"
    assert a.decided_by == ["individual_practitioner", "intervention_team"]
    assert a.reasons == [
        {"level": "organisation", "code": "workforce", "note": "Two night nurses off sick"},
        {"level": "recipient", "code": "crisis", "note": ""},
    ]
    assert a.evidence_links == ["https://example.org/audit-2025", "Ward meeting minutes, 20 Feb"]
    assert a.context_aspects == ["personnel"] and a.patients_involved
    assert a.version == 2
    assert Event.objects.filter(verb="adaptation.updated", object_id=str(a.pk)).exists()
    page = client_for("site_a").get(f"/p/clabsi/adaptations/{a.pk}/").content.decode()
    assert "Organisation / setting: Workforce — Two night nurses off sick" in page
    assert "Recipient: Crisis" in page
    assert '<a href="https://example.org/audit-2025"' in page
    assert "Ward meeting minutes, 20 Feb" in page


def test_when_nothing_can_be_computed_the_teams_judgement_stands(site, programme, user):
    a = actions.create_adaptation(
        user("site_a"), programme, site("RA1-GICU"), _essentials(fidelity="consistent")
    )
    assert a.fidelity == "consistent"
    assert a.fidelity_basis.startswith("The team's judgement")


def test_an_adaptation_ending_before_it_starts_is_refused(site, programme, user):
    with pytest.raises(ValidationError) as exc:
        actions.create_adaptation(
            user("site_a"), programme, site("RA1-GICU"), _essentials(date_ended=date(2025, 1, 1))
        )
    assert "before it takes effect" in exc.value.message_dict["date_ended"][0]


def test_an_adaptation_touching_another_programmes_intervention_is_refused(site, programme, user):
    lead = user("lead")
    other = core.create_programme(lead, name="Falls", slug="falls")
    intervention = core.create_intervention(lead, other, name="Falls bundle")
    foreign = core.add_component(
        lead, intervention, name="Lying and standing BP", kind=Component.Kind.CORE_FUNCTION
    )
    before = Adaptation.objects.count()
    with pytest.raises(ValidationError) as exc:
        actions.create_adaptation(
            lead, programme, site("RA1-GICU"), _essentials(), components=[foreign]
        )
    assert "another programme" in exc.value.message_dict["components"][0]
    assert Adaptation.objects.count() == before


def test_unknown_frame_values_are_refused_by_field(site, programme, user):
    with pytest.raises(ValidationError) as exc:
        actions.create_adaptation(
            user("site_a"),
            programme,
            site("RA1-GICU"),
            _essentials(planned="whenever", content_types=["tinkering"], reasons=["weather"]),
        )
    errors = exc.value.message_dict
    assert set(errors) >= {"planned", "content_types", "reasons"}


def test_a_strategy_adaptation_uses_frame_is_and_must_name_the_strategy(site, programme, user):
    with pytest.raises(ValidationError) as exc:
        actions.create_adaptation(
            user("lead"),
            programme,
            site("RA1-GICU"),
            _essentials(target="strategy", what_modified="evaluation"),
        )
    assert "strategy" in exc.value.message_dict
    a = actions.create_adaptation(
        user("lead"),
        programme,
        site("RA1-GICU"),
        _essentials(
            target="strategy",
            strategy="Audit and provide feedback",
            what_modified="evaluation",
            goals=["adoption"],
        ),
    )
    assert a.is_strategy and a.what_modified == "evaluation"
    with pytest.raises(ValidationError) as exc:
        actions.create_adaptation(
            user("lead"), programme, site("RA1-GICU"), _essentials(what_modified="evaluation")
        )
    assert "what_modified" in exc.value.message_dict


def test_a_shared_adaptation_is_adopted_by_another_site_keeping_its_origin(
    client_for, site, programme, user
):
    origin = actions.create_adaptation(user("site_a"), programme, site("RA1-GICU"), _essentials())
    client = client_for("site_a")
    assert client.post(f"/p/clabsi/adaptations/{origin.pk}/publish/").status_code == 302
    origin.refresh_from_db()
    assert origin.published
    response = client_for("site_b").post(
        f"/p/clabsi/adaptations/{origin.pk}/adopt/",
        {"site": site("RB1-GICU").pk, "date_effective": "2025-05-01"},
    )
    copy = Adaptation.objects.get(origin=origin)
    assert response["Location"] == f"/p/clabsi/adaptations/{copy.pk}/"
    assert copy.site.code == "RB1-GICU" and copy.title == origin.title
    assert copy.date_effective == date(2025, 5, 1)
    assert Event.objects.filter(verb="adaptation.published", object_id=str(origin.pk)).exists()
    page = client_for("site_b").get(f"/p/clabsi/adaptations/{origin.pk}/").content.decode()
    assert f'href="/p/clabsi/adaptations/{copy.pk}/">Eastleigh Vale General ICU</a>' in page


def test_an_unshared_adaptation_cannot_be_adopted(site, programme, user):
    origin = actions.create_adaptation(user("site_a"), programme, site("RA1-GICU"), _essentials())
    with pytest.raises(ValidationError):
        actions.adopt_adaptation(
            user("lead"), origin, site("RB1-GICU"), date_effective=date(2025, 5, 1)
        )


def test_patient_partners_read_shared_adaptations_but_not_other_sites_private_ones(
    client_for, site, programme, user
):
    private = actions.create_adaptation(
        user("site_b"), programme, site("RB1-GICU"), _essentials(title="Private to RB1")
    )
    shared = actions.create_adaptation(
        user("site_b"), programme, site("RB1-GICU"), _essentials(title="Shared by RB1")
    )
    actions.publish_adaptation(user("site_b"), shared)
    patient = client_for("patient")
    assert patient.get(f"/p/clabsi/adaptations/{shared.pk}/").status_code == 200
    assert patient.get(f"/p/clabsi/adaptations/{private.pk}/").status_code == 404
    listing = patient.get("/p/clabsi/adaptations/").content.decode()
    assert "Shared by RB1" in listing and "Private to RB1" not in listing
    # Reading is not changing.
    assert patient.post(f"/p/clabsi/adaptations/{shared.pk}/edit/", {}).status_code == 403


def test_adaptations_are_annotations_on_the_charts_of_the_sites_that_may_be_read(
    site, programme, user
):
    a = actions.create_adaptation(
        user("site_b"), programme, site("RB1-GICU"), _essentials(title="Annotated")
    )
    measure = Measure.objects.get(programme=programme, slug="clabsi-rate")
    unit = site("RB1-GICU")
    lead_notes = annotations_for(access_for(user("lead"), programme), measure, [unit.pk])
    mine = [n for n in lead_notes if n.kind == "adaptation" and n.label == "Annotated"]
    assert len(mine) == 1 and mine[0].on == a.date_effective
    assert mine[0].url == f"/p/clabsi/adaptations/{a.pk}/"
    patient_notes = annotations_for(access_for(user("patient"), programme), measure, [unit.pk])
    assert not [n for n in patient_notes if n.label == "Annotated"]


def test_the_adaptation_page_shows_before_and_after_evidence_as_association(client_for, programme):
    a = Adaptation.objects.get(
        programme=programme, origin=None, title__startswith="Insertion checklist"
    )
    page = client_for("lead").get(f"/p/clabsi/adaptations/{a.pk}/").content.decode()
    assert "Association, not proof." in page
    assert "Centre line" in page
    assert page.count('class="evidence card"') == a.measures.count()


def test_a_stale_edit_is_refused_with_a_message(client_for, site, programme, user):
    a = actions.create_adaptation(user("site_a"), programme, site("RA1-GICU"), _essentials())
    actions.update_adaptation(
        user("site_a"),
        a,
        {"title": "Changed by a colleague"},
        components=[],
        measures=[],
        expected_version=1,
    )
    response = client_for("site_a").post(
        f"/p/clabsi/adaptations/{a.pk}/edit/",
        {
            "title": "Mine",
            "date_effective": "2025-03-01",
            "when_phase": "implementation",
            "planned": "planned_reactive",
            "target": "intervention",
            "fidelity": "unknown",
            "version": 1,
        },
    )
    assert response.status_code == 422
    assert "changed by someone else" in response.content.decode()
    a.refresh_from_db()
    assert a.title == "Changed by a colleague"


def test_a_component_with_adaptations_cannot_be_deleted_only_retired(site, programme, user):
    form = _component(programme, "Insertion cart or kit")
    actions.create_adaptation(
        user("site_a"), programme, site("RA1-GICU"), _essentials(), components=[form]
    )
    with pytest.raises(ValidationError) as exc:
        actions.delete_component(user("lead"), form)
    assert "retire it instead" in exc.value.message_dict["component"][0]
    actions.retire_component(user("lead"), form)
    form.refresh_from_db()
    assert form.retired


def test_a_component_nothing_refers_to_can_be_deleted(programme, user):
    intervention = programme.interventions.first()
    spare = core.add_component(
        user("lead"), intervention, name="Spare", kind=Component.Kind.ADAPTABLE_FORM
    )
    pk = spare.pk
    actions.delete_component(user("lead"), spare)
    assert not Component.objects.filter(pk=pk).exists()
    assert Event.objects.filter(verb="component.deleted", object_id=str(pk)).exists()


def test_the_team_can_accept_a_new_chart_phase_at_the_adaptation_date(client_for, programme):
    from spreadscale.web.measurement.models import ChartAdjustment

    a = Adaptation.objects.get(
        programme=programme, origin=None, title__startswith="Insertion checklist"
    )
    page = client_for("site_a").get(f"/p/clabsi/adaptations/{a.pk}/").content.decode()
    assert page.count("Accept a new phase at 1 Apr 2024 on the chart") == a.measures.count()
    assert (
        "Accept a new phase"
        not in client_for("member_a").get(f"/p/clabsi/adaptations/{a.pk}/").content.decode()
    )
    response = client_for("site_a").post(
        "/p/clabsi/measures/clabsi-rate/adjustments/",
        {"site": a.site_id, "kind": "phase", "on": "2024-04-01", "reason": f"After {a.title}"},
    )
    assert response.status_code == 302
    assert ChartAdjustment.objects.filter(
        site_id=a.site_id, kind="phase", on=date(2024, 4, 1), measure__slug="clabsi-rate"
    ).exists()


def test_a_computed_fidelity_does_not_survive_an_edit_that_leaves_nothing_to_compute_from(
    site, programme, user
):
    review = _component(programme, "Daily review of line necessity")
    a = actions.create_adaptation(
        user("site_a"),
        programme,
        site("RA1-GICU"),
        _essentials(content_types=["removing"]),
        components=[review],
    )
    assert a.fidelity == "inconsistent" and a.fidelity_basis.startswith("Computed")
    # The API echoes the record back: the old computed value is not a fresh judgement.
    a = actions.update_adaptation(
        user("site_a"),
        a,
        {"fidelity": "inconsistent"},
        components=[],
        measures=[],
        expected_version=a.version,
    )
    assert a.fidelity == "unknown" and a.fidelity_basis.startswith("The team's judgement")
    # Now the team's judgement is asked for and stands.
    a = actions.update_adaptation(
        user("site_a"),
        a,
        {"fidelity": "inconsistent"},
        components=[],
        measures=[],
        expected_version=a.version,
    )
    assert a.fidelity == "inconsistent"


def test_the_edit_page_does_not_offer_a_computed_value_as_the_teams_judgement(
    client_for, site, programme, user
):
    review = _component(programme, "Daily review of line necessity")
    a = actions.create_adaptation(
        user("site_a"),
        programme,
        site("RA1-GICU"),
        _essentials(content_types=["removing"]),
        components=[review],
    )
    offered = (
        client_for("site_a")
        .get(f"/p/clabsi/adaptations/{a.pk}/edit/")
        .context["form"]["fidelity"]
        .value()
    )
    assert offered == "unknown"
    response = client_for("site_a").post(
        f"/p/clabsi/adaptations/{a.pk}/edit/",
        {
            "title": a.title,
            "date_effective": "2025-03-01",
            "when_phase": "implementation",
            "planned": "planned_proactive",
            "target": "intervention",
            "content_types": ["removing"],
            "fidelity": offered,
            "version": a.version,
        },
    )
    assert response.status_code == 302
    a.refresh_from_db()
    assert a.fidelity == "unknown"


def test_moving_the_touched_components_to_another_intervention_moves_the_adaptation(
    site, programme, user
):
    lead = user("lead")
    first = programme.interventions.first()
    second = core.create_intervention(lead, programme, name="Line maintenance round")
    round_form = core.add_component(
        lead, second, name="Round checklist", kind=Component.Kind.ADAPTABLE_FORM
    )
    a = actions.create_adaptation(
        user("site_a"),
        programme,
        site("RA1-GICU"),
        _essentials(),
        components=[_component(programme, "Insertion cart or kit")],
    )
    assert a.intervention == first
    a = actions.update_adaptation(
        user("site_a"), a, {}, components=[round_form], measures=[], expected_version=a.version
    )
    a.refresh_from_db()
    assert a.intervention == second
    assert list(a.components.all()) == [round_form]


def test_each_reason_keeps_its_own_note_and_bad_reasons_are_refused_by_row(site, programme, user):
    a = actions.create_adaptation(
        user("site_a"),
        programme,
        site("RA1-GICU"),
        _essentials(
            reasons=[
                {"level": "organisation", "code": "workforce", "note": "Vacancies"},
                "recipient:crisis",  # the short form: no note
            ]
        ),
    )
    assert a.reasons == [
        {"level": "organisation", "code": "workforce", "note": "Vacancies"},
        {"level": "recipient", "code": "crisis", "note": ""},
    ]
    for reasons, words in [
        ([{"level": "planet", "code": "weather"}], "Reason 1: unknown level"),
        ([{"level": "provider", "code": "crisis"}], "not a reason at the provider level"),
        (["organisation:time", {"level": "organisation", "code": "time"}], "Reason 2"),
    ]:
        with pytest.raises(ValidationError) as exc:
            actions.create_adaptation(
                user("site_a"), programme, site("RA1-GICU"), _essentials(reasons=reasons)
            )
        assert words in exc.value.message_dict["reasons"][0]


def test_a_reason_note_without_a_reason_is_refused_on_the_page(client_for, site, programme, user):
    a = actions.create_adaptation(user("site_a"), programme, site("RA1-GICU"), _essentials())
    response = client_for("site_a").post(
        f"/p/clabsi/adaptations/{a.pk}/edit/",
        {
            "title": a.title,
            "date_effective": "2025-03-01",
            "when_phase": "implementation",
            "planned": "planned_proactive",
            "target": "intervention",
            "reason_code_0": "",
            "reason_note_0": "Because",
            "version": a.version,
        },
    )
    assert response.status_code == 422
    assert "Reason 1: Choose the reason this note explains." in response.content.decode()


def test_evidence_links_must_be_web_addresses_when_they_look_like_one(site, programme, user):
    with pytest.raises(ValidationError) as exc:
        actions.create_adaptation(
            user("site_a"),
            programme,
            site("RA1-GICU"),
            _essentials(evidence_links=["Audit, March", "javascript:alert(1)"]),
        )
    assert exc.value.message_dict["evidence_links"][0].startswith("Link 2:")


def test_the_linked_pdsa_cycle_must_be_of_the_same_site_and_programme(site, programme, user):
    from spreadscale.web.improvement.models import PDSACycle

    own = PDSACycle.objects.filter(programme=programme, site=site("RA1-GICU")).first()
    other = PDSACycle.objects.filter(programme=programme).exclude(site=site("RA1-GICU")).first()
    a = actions.create_adaptation(
        user("site_a"), programme, site("RA1-GICU"), _essentials(linked_pdsa=own.pk)
    )
    assert a.linked_pdsa == own
    with pytest.raises(ValidationError) as exc:
        actions.update_adaptation(
            user("site_a"),
            a,
            {"linked_pdsa": other.pk},
            components=[],
            measures=[],
            expected_version=a.version,
        )
    assert f"not {a.site.code}" in exc.value.message_dict["linked_pdsa"][0]
    with pytest.raises(ValidationError) as exc:
        actions.create_adaptation(
            user("site_a"), programme, site("RA1-GICU"), _essentials(linked_pdsa=10**9)
        )
    assert "linked_pdsa" in exc.value.message_dict


def test_the_detail_page_links_the_pdsa_cycle_for_the_team_only(client_for, site, programme, user):
    from spreadscale.web.improvement.models import PDSACycle

    own = PDSACycle.objects.filter(programme=programme, site=site("RA1-GICU")).first()
    a = actions.create_adaptation(
        user("site_a"), programme, site("RA1-GICU"), _essentials(linked_pdsa=own.pk)
    )
    actions.publish_adaptation(user("site_a"), a)
    team = client_for("site_a").get(f"/p/clabsi/adaptations/{a.pk}/").content.decode()
    assert f'href="/p/clabsi/cycles/{own.pk}/"' in team
    # Another site's lead reads the shared adaptation, not this site's cycles.
    other = client_for("site_b").get(f"/p/clabsi/adaptations/{a.pk}/")
    assert other.status_code == 200
    assert f'href="/p/clabsi/cycles/{own.pk}/"' not in other.content.decode()
    assert str(own) in other.content.decode()


def test_an_adopted_copy_keeps_reasons_and_evidence_but_not_the_other_sites_cycle(
    site, programme, user
):
    from spreadscale.web.improvement.models import PDSACycle

    own = PDSACycle.objects.filter(programme=programme, site=site("RA1-GICU")).first()
    a = actions.create_adaptation(
        user("site_a"),
        programme,
        site("RA1-GICU"),
        _essentials(
            linked_pdsa=own.pk,
            reasons=[{"level": "organisation", "code": "time", "note": "Short shifts"}],
            evidence_links=["https://example.org/a"],
        ),
    )
    actions.publish_adaptation(user("site_a"), a)
    copy = actions.adopt_adaptation(
        user("site_b"), a, site("RB1-GICU"), date_effective=date(2025, 6, 1)
    )
    assert copy.reasons == a.reasons and copy.evidence_links == a.evidence_links
    assert copy.linked_pdsa is None


def test_the_migration_turns_level_code_strings_into_reasons_with_notes(site, programme, user):
    import importlib

    from django.apps import apps

    migration = importlib.import_module(
        "spreadscale.web.fidelity.migrations.0002_frame_reasons_evidence_links_linked_pdsa"
    )
    a = actions.create_adaptation(user("site_a"), programme, site("RA1-GICU"), _essentials())
    Adaptation.objects.filter(pk=a.pk).update(
        reasons=["organisation:workforce", "recipient:crisis"], reason_note="Shared note"
    )
    migration.reasons_to_records(apps, None)
    a.refresh_from_db()
    assert a.reasons == [
        {"level": "organisation", "code": "workforce", "note": ""},
        {"level": "recipient", "code": "crisis", "note": ""},
    ]
    assert a.reason_note == "Shared note"  # kept as the general note, not copied onto each
    migration.records_to_reasons(apps, None)
    a.refresh_from_db()
    assert a.reasons == ["organisation:workforce", "recipient:crisis"]


def test_quick_entry_logs_a_frame_is_adaptation_of_an_implementation_strategy(client_for, site):
    unit = site("RA1-GICU")
    client = client_for("site_a")
    form = client.get("/p/clabsi/adaptations/new/").content.decode()
    assert 'name="target"' in form and 'name="strategy"' in form
    assert '<option value="evaluation">Evaluation</option>' in form
    essentials = {
        "site": unit.pk,
        "title": "Feedback every fortnight instead of monthly",
        "date_effective": "2025-05-01",
        "when_phase": "implementation",
        "planned": "planned_reactive",
    }
    nameless = client.post("/p/clabsi/adaptations/new/", essentials | {"target": "strategy"})
    assert nameless.status_code == 422
    assert "Name the implementation strategy" in nameless.content.decode()
    wrong_set = client.post(
        "/p/clabsi/adaptations/new/", essentials | {"what_modified": "evaluation"}
    )
    assert wrong_set.status_code == 422
    assert "What was modified: Unknown value &#x27;evaluation&#x27;" in wrong_set.content.decode()
    assert not Adaptation.objects.filter(title=essentials["title"]).exists()
    response = client.post(
        "/p/clabsi/adaptations/new/",
        essentials
        | {
            "target": "strategy",
            "strategy": "Audit and provide feedback",
            "what_modified": "evaluation",
            "content_types": ["shortening"],
        },
    )
    assert response.status_code == 302
    a = Adaptation.objects.get(title=essentials["title"])
    assert a.is_strategy and a.strategy == "Audit and provide feedback"
    assert a.what_modified == "evaluation" and a.content_types == ["shortening"]
    detail = client.get(f"/p/clabsi/adaptations/{a.pk}/").content.decode()
    assert "Audit and provide feedback" in detail and "Evaluation" in detail


def test_quick_entry_without_a_target_logs_an_adaptation_of_the_intervention(client_for, site):
    response = client_for("site_a").post(
        "/p/clabsi/adaptations/new/",
        {
            "site": site("RA1-GICU").pk,
            "title": "Checklist laminated",
            "date_effective": "2025-05-01",
            "when_phase": "implementation",
            "planned": "planned_proactive",
            "what_modified": "content",
        },
    )
    assert response.status_code == 302
    a = Adaptation.objects.get(title="Checklist laminated")
    assert a.target == "intervention" and a.what_modified == "content"
