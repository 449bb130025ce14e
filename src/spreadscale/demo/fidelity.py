"""Demo fidelity histories, adaptations and stage gates, consistent with the generated data.

Every unit that adopts the bundle is assessed each quarter from its testing phase on; core
functions settle as the unit implements. Region A's first opinion leader moves its insertion
checklist onto the electronic record when it adopts (the infection rate then falls: a real
shift in the generated data), shares it, and its peers adopt it. The Midlands unit that later
abandons cuts the daily line review to weekly during a staffing crisis: a fidelity-inconsistent
adaptation, followed by lost core functions.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import numpy as np
from django.utils import timezone

from spreadscale.demo.generator import DemoProgramme, month_start
from spreadscale.web.core.models import Component, Phase, Programme, Role, Site
from spreadscale.web.fidelity import actions
from spreadscale.web.fidelity.models import FidelityAssessment
from spreadscale.web.measurement.models import Measure

DAILY_REVIEW = "Daily review of line necessity"


def _at(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(10, 0)))


def _quarter(month: int) -> int:
    """The index of the first month of the quarter that holds programme month ``month``."""
    return month - (month_start(month).month - 1) % 3


def load(programme: Programme, demo: DemoProgramme, users: dict) -> None:
    rng = np.random.default_rng(6)
    lead, site_lead, facilitator = users["lead"], users["site"], users["facilitator"]
    core = list(
        Component.objects.filter(
            intervention__programme=programme, kind=Component.Kind.CORE_FUNCTION
        ).order_by("order")
    )
    forms = {
        c.name: c
        for c in Component.objects.filter(
            intervention__programme=programme, kind=Component.Kind.ADAPTABLE_FORM
        )
    }
    measures = {m.slug: m for m in Measure.objects.filter(programme=programme)}
    sites = {s.code: s for s in Site.objects.filter(enrolments__programme=programme)}
    unit = {s.code: s for s in demo.sites}
    leader = next(s for s in demo.sites if s.region == "RA" and s.opinion_leader)
    lapsed = next(
        s for s in demo.sites if s.abandon_month is not None and s.adopt_month is not None
    )
    lapse_month = lapsed.adopt_month + 4  # type: ignore[operator]

    def assessor(code: str):
        if code == "RA1-GICU":
            return site_lead
        return facilitator if unit[code].region == "RB" else lead

    # --- stage gates -------------------------------------------------------------------
    actions.create_stage_gate(
        lead,
        programme,
        to_phase=Phase.IMPLEMENTING,
        kind="role_in_place",
        role=Role.SITE_LEAD,
        description="A site lead named for the unit",
    )
    actions.create_stage_gate(
        lead,
        programme,
        to_phase=Phase.SUSTAINING,
        kind="fidelity_score",
        threshold=0.75,
        description="At least three in four core functions kept",
    )
    actions.create_stage_gate(
        lead,
        programme,
        to_phase=Phase.SUSTAINING,
        kind="measure_stable",
        measure=measures["clabsi-rate"],
        n_points=6,
        description="Infection rate stable or improving for six months",
    )

    # --- quarterly fidelity assessments ------------------------------------------------
    for s in demo.sites:
        if s.adopt_month is None:
            continue
        testing = next(m for m, phase, _ in s.phases if phase == "testing")
        end = min(demo.months - 1, s.abandon_month or demo.months - 1)
        month = _quarter(testing) + 3
        while month <= end:
            since = month - s.adopt_month
            ratings = []
            for i, c in enumerate(core):
                if since < 0:
                    code = "intended" if rng.random() < 0.45 else "not_delivered"
                elif since < 3:
                    code = rng.choice(["intended", "intended", "adapted_kept", "adapted_lost"])
                else:
                    code = "intended" if rng.random() < 0.8 else "adapted_kept"
                if s is lapsed and month >= lapse_month and (c.name == DAILY_REVIEW or i == 0):
                    code = "adapted_lost" if c.name == DAILY_REVIEW else "not_delivered"
                if s is leader and since >= 0 and i == 0:
                    code = "adapted_kept"  # the electronic checklist prompts the hand hygiene
                ratings.append(actions.RatingInput(c.pk, str(code), _evidence(str(code), c.name)))
            day = month_start(month)
            actions.record_assessment(
                assessor(s.code),
                programme,
                sites[s.code],
                period_start=day,
                ratings=ratings,
                note="Observed on two shifts; audit sheets checked."
                if since >= 0
                else "Baseline observation before the bundle.",
                at=_at(day),
            )
            month += 3

    # --- a corrected assessment: the leader's first one after adopting, whose evidence for
    # the daily review was entered against the wrong shift (ratings unchanged) -------------
    first = (
        FidelityAssessment.objects.filter(
            programme=programme,
            site=sites[leader.code],
            period_start__gte=month_start(leader.adopt_month),  # type: ignore[arg-type]
        )
        .order_by("period_start")
        .first()
    )
    if first is not None:
        kept = list(first.ratings.all())
        actions.revise_assessment(
            assessor(leader.code),
            first,
            [
                actions.RatingInput(
                    r.component_id,
                    r.rating,
                    f"{r.evidence} Night shift's sheet added: it had been filed under the next "
                    "quarter."
                    if r.component.name == DAILY_REVIEW
                    else r.evidence,
                )
                for r in kept
            ],
            first.note + " Corrected after the night shift's audit sheet turned up.",
            first.version,
            at=_at(first.period_start) + timedelta(days=40),
        )

    # --- adaptations -------------------------------------------------------------------
    adopt = month_start(leader.adopt_month)  # type: ignore[arg-type]
    ehr = actions.create_adaptation(
        site_lead if leader.code == "RA1-GICU" else lead,
        programme,
        sites[leader.code],
        {
            "title": "Insertion checklist on the electronic patient record",
            "description": "The paper checklist kept going missing; the checklist now opens in "
            "the electronic record whenever a central line insertion is booked, and the "
            "insertion cannot be signed off until every item is ticked.",
            "date_effective": adopt,
            "date_decided": month_start(leader.adopt_month - 1),  # type: ignore[operator]
            "when_phase": "implementation",
            "planned": "planned_proactive",
            "decided_by": ["intervention_team", "administrator"],
            "final_decider": "intervention_team",
            "participants": "Two ICU nurses, the consultant lead, the EPR team; a patient "
            "partner reviewed the wording of the bedside prompt.",
            "patients_involved": True,
            "what_modified": "context",
            "context_aspects": ["format"],
            "level": "clinic_unit",
            "content_types": ["packaging"],
            "goals": ["feasibility", "effectiveness"],
            "reasons": [
                {
                    "level": "organisation",
                    "code": "resources",
                    "note": "Paper forms were lost between shifts.",
                },
                {
                    "level": "organisation",
                    "code": "time",
                    "note": "Finding a blank form delayed insertions.",
                },
            ],
            "evidence_links": ["Unit audit of missing checklists, two months before the change"],
            "permanence": "permanent",
        },
        components=[forms["Insertion checklist format"]],
        measures=[measures["clabsi-rate"], measures["bundle-compliance"]],
        at=_at(adopt),
    )
    actions.publish_adaptation(lead, ehr, at=_at(month_start(leader.adopt_month + 2)))  # type: ignore[operator]
    # Peers in region A take it up after their own adoption.
    for s in demo.sites:
        if s.region == "RA" and s is not leader and s.adopt_month is not None and s.adopt_month % 2:
            actions.adopt_adaptation(
                lead,
                ehr,
                sites[s.code],
                date_effective=month_start(s.adopt_month),
                at=_at(month_start(s.adopt_month)),
            )

    lapse = month_start(lapse_month)
    actions.create_adaptation(
        facilitator,
        programme,
        sites[lapsed.code],
        {
            "title": "Line necessity reviewed weekly instead of daily",
            "description": "With a third of nursing posts vacant the daily review was dropped "
            "to the Monday ward round.",
            "date_effective": lapse,
            "when_phase": "implementation",
            "planned": "unplanned_reactive",
            "decided_by": ["individual_practitioner"],
            "final_decider": "individual_practitioner",
            "participants": "Nurse in charge on nights; not discussed with the team.",
            "facilitator_involvement": "Found at the quarterly visit; the facilitator raised it "
            "with the unit's lead.",
            "what_modified": "content",
            "level": "clinic_unit",
            "content_types": ["shortening"],
            "goals": ["feasibility"],
            "reasons": [
                {
                    "level": "organisation",
                    "code": "workforce",
                    "note": "A third of nursing posts vacant.",
                },
                {"level": "organisation", "code": "competing_demands", "note": ""},
            ],
            "permanence": "temporary",
        },
        components=[next(c for c in core if c.name == DAILY_REVIEW)],
        measures=[measures["clabsi-rate"]],
        at=_at(lapse),
    )

    stopper = next(s for s in demo.sites if s.region == "RB" and s.adopt_month is not None)
    stop = actions.create_adaptation(
        facilitator,
        programme,
        sites[stopper.code],
        {
            "title": "Any nurse may stop a non-compliant insertion",
            "description": "Agreed at a team meeting facilitated by the regional team.",
            "date_effective": month_start(stopper.adopt_month),  # type: ignore[arg-type]
            "when_phase": "implementation",
            "planned": "planned_proactive",
            "decided_by": ["intervention_team", "programme_manager"],
            "participants": "Nurses, doctors and the unit manager.",
            "facilitator_involvement": "The facilitator ran the meeting and shared the script "
            "another region uses.",
            "what_modified": "context",
            "context_aspects": ["personnel"],
            "level": "clinic_unit",
            "content_types": ["tailoring"],
            "goals": ["effectiveness"],
            "reasons": [
                {
                    "level": "organisation",
                    "code": "culture",
                    "note": "Junior nurses did not feel able to challenge a consultant.",
                },
                {
                    "level": "provider",
                    "code": "perception_of_intervention",
                    "note": "Stopping an insertion was seen as a doctor's call.",
                },
            ],
            "permanence": "permanent",
        },
        components=[forms["Who may stop a non-compliant insertion"]],
        measures=[measures["bundle-compliance"]],
        at=_at(month_start(stopper.adopt_month)),  # type: ignore[arg-type]
    )
    actions.publish_adaptation(facilitator, stop, at=_at(month_start(stopper.adopt_month + 1)))  # type: ignore[operator]

    late = next(s for s in demo.sites if s.region == "RC" and s.adopt_month is not None)
    actions.create_adaptation(
        lead,
        programme,
        sites[late.code],
        {
            "title": "Compliance audit fed back monthly instead of weekly",
            "target": "strategy",
            "strategy": "Audit and provide feedback",
            "date_effective": month_start(late.adopt_month),  # type: ignore[arg-type]
            "when_phase": "scale_up",
            "planned": "planned_reactive",
            "decided_by": ["programme_leader"],
            "what_modified": "evaluation",
            "level": "network",
            "content_types": ["loosening_structure"],
            "goals": ["feasibility", "sustainability"],
            "reasons": [
                {"level": "organisation", "code": "time", "note": "Weekly audits took a day."}
            ],
            "permanence": "permanent",
        },
        measures=[measures["bundle-compliance"]],
        at=_at(month_start(late.adopt_month)),  # type: ignore[arg-type]
    )


def _evidence(code: str, name: str) -> str:
    return {
        "intended": f"{name}: seen on every observed occasion.",
        "adapted_kept": f"{name}: done differently from the protocol, purpose met.",
        "adapted_lost": f"{name}: changed so that it no longer does its job.",
        "not_delivered": f"{name}: not seen.",
    }.get(code, "")
