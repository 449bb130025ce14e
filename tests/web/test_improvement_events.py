"""Timelines read as sentences: every verb the fidelity and improvement actions record has a
description, and every key a description uses is in the payload the action writes."""

from __future__ import annotations

import ast
import inspect
import string
from datetime import date

import pytest

from spreadscale.web.core import actions as core
from spreadscale.web.core.models import EVENT_DESCRIPTIONS, Component, Enrolment, Event
from spreadscale.web.fidelity import actions as fidelity
from spreadscale.web.improvement import actions as improvement
from spreadscale.web.improvement.models import ChangeIdea, DriverNode

pytestmark = pytest.mark.django_db


def _verbs(module) -> set[str]:
    """Every verb literal passed to record_event in a module (also inside `a if b else c`).

    A verb held in a variable would be missed, so the test below also counts them."""
    verbs: set[str] = set()
    for node in ast.walk(ast.parse(inspect.getsource(module))):
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", None)) == "record_event"
        ):
            for part in ast.walk(node.args[1]):
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    verbs.add(part.value)
    return verbs


VERBS = _verbs(fidelity) | _verbs(improvement)


def _keys(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_the_actions_record_the_verbs_we_expect():
    # A guard on the parser above: if it found nothing, the next test would prove nothing.
    assert {"pdsa.created", "fidelity.assessed", "driver_node.added", "adaptation.created"} <= VERBS
    assert len(VERBS) >= 20


@pytest.mark.parametrize("verb", sorted(VERBS))
def test_every_verb_has_a_readable_description(verb):
    assert verb in EVENT_DESCRIPTIONS, f"{verb} has no timeline sentence"


def _today_all_verbs(programme, user, site):
    """Run every action once, so that each verb is recorded with its real payload."""
    lead, team = user("lead"), user("site_a")
    unit = site("RA1-GICU")
    intervention = programme.interventions.first()
    core_fn = Component.objects.filter(
        intervention=intervention, kind=Component.Kind.CORE_FUNCTION, retired=False
    )
    assessment = fidelity.record_assessment(
        team,
        programme,
        unit,
        period_start=date(2030, 1, 1),
        ratings=[fidelity.RatingInput(c.pk, "intended") for c in core_fn],
    )
    fidelity.revise_assessment(
        team,
        assessment,
        [fidelity.RatingInput(c.pk, "adapted_kept") for c in core_fn],
        "Re-read the audit",
        assessment.version,
    )
    essentials = {
        "title": "Checklist on a tablet",
        "date_effective": date(2030, 3, 1),
        "when_phase": "implementation",
        "planned": "planned_proactive",
    }
    a = fidelity.create_adaptation(team, programme, unit, essentials)
    a = fidelity.update_adaptation(
        team, a, {"description": "More"}, components=[], measures=[], expected_version=a.version
    )
    fidelity.publish_adaptation(team, a)
    fidelity.adopt_adaptation(user("site_b"), a, site("RB1-GICU"), date_effective=date(2030, 4, 1))
    spare = core.add_component(lead, intervention, name="Spare", kind="adaptable_form")
    fidelity.retire_component(lead, spare)
    fidelity.restore_component(lead, spare)
    fidelity.delete_component(lead, spare)
    gate = fidelity.create_stage_gate(
        lead, programme, to_phase="sustaining", kind="role_in_place", role="facilitator"
    )
    enrolment = Enrolment.objects.get(programme=programme, site=unit)
    next_phase = "sustaining" if enrolment.phase != "sustaining" else "implementing"
    strict = fidelity.create_stage_gate(  # more points than any site has: never met
        lead,
        programme,
        to_phase=next_phase,
        kind="measure_stable",
        measure_slug="clabsi-rate",
        n_points=1000,
    )
    fidelity.move_phase(
        lead,
        enrolment,
        to_phase=next_phase,
        effective_on=date(2030, 5, 1),
        reason="Ready",
        overrides={strict.pk: "Agreed at the steering group", gate.pk: "Agreed"},
    )
    fidelity.delete_stage_gate(lead, gate)

    aim = DriverNode.objects.get(programme=programme, site=None, kind="aim", retired=False)
    primary = improvement.add_node(lead, programme, kind="primary", text="Culture", parents=[aim])
    primary = improvement.edit_node(
        lead, primary, expected_version=primary.version, text="Safety culture"
    )
    improvement.edit_node(lead, primary, expected_version=primary.version, retired=True)
    idea = improvement.create_idea(lead, programme, title="Huddles")
    idea = improvement.update_idea(lead, idea, expected_version=idea.version, title="Daily huddles")
    improvement.copy_idea(team, idea, unit)
    cycle = improvement.create_cycle(
        team,
        programme,
        site=unit,
        change_idea=idea,
        start_date=date(2030, 6, 1),
        objective="Try a huddle on one shift",
    )
    cycle = improvement.update_cycle(
        team, cycle, expected_version=cycle.version, do_observations="Done"
    )
    improvement.update_cycle(
        team, cycle, expected_version=cycle.version, study="As predicted", act="adopt"
    )
    improvement.update_idea(lead, idea, expected_version=idea.version, retired=True)
    improvement.record_progress_score(
        team, programme, site=unit, month=date(2030, 6, 1), rater="team", score="2.5"
    )


def test_every_description_finds_its_keys_in_the_payload_the_action_writes(programme, user, site):
    since = Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    _today_all_verbs(programme, user, site)
    recorded = {}
    for event in Event.objects.filter(pk__gt=since, verb__in=VERBS):
        recorded.setdefault(event.verb, event)
    missing = VERBS - set(recorded)
    assert not missing, f"the scenario did not record {sorted(missing)}"
    for verb, event in recorded.items():
        absent = _keys(EVENT_DESCRIPTIONS[verb]) - set(event.payload)
        assert not absent, f"{verb}: the payload lacks {sorted(absent)}"
        assert event.summary != verb.replace(".", " ").replace("_", " ").capitalize()


def test_the_site_page_names_a_new_pdsa_cycle_and_its_idea(programme, user, site, client_for):
    unit = site("RA1-GICU")
    idea = ChangeIdea.objects.filter(programme=programme, site=None, retired=False).first()
    improvement.create_cycle(
        user("site_a"),
        programme,
        site=unit,
        change_idea=idea,
        start_date=date(2030, 6, 1),
        objective="Ask two night nurses to try it",
    )
    page = client_for("site_a").get(f"/p/clabsi/sites/{unit.pk}/").content.decode()
    assert f"of “{idea.title}” started: Ask two night nurses to try it" in page
    assert "Pdsa created" not in page


def test_the_site_page_names_an_adaptation_by_its_title(programme, user, site, client_for):
    unit = site("RA1-GICU")
    fidelity.create_adaptation(
        user("site_a"),
        programme,
        unit,
        {
            "title": "Huddle moved to the handover",
            "date_effective": date(2030, 3, 1),
            "when_phase": "implementation",
            "planned": "planned_proactive",
        },
    )
    page = client_for("site_a").get(f"/p/clabsi/sites/{unit.pk}/").content.decode()
    assert "Adaptation logged: Huddle moved to the handover" in page
