"""Demo data for the Model for Improvement: a driver diagram, a change package, PDSA ramps at the
units around the month each adopted the bundle, ideas copied along the peer network, and monthly
team progress scores that follow each unit's phases."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import numpy as np
from django.utils import timezone

from spreadscale.demo.generator import MONTHS, DemoProgramme, DemoSite, month_start
from spreadscale.web.core.models import Component, Programme, Site
from spreadscale.web.improvement import actions
from spreadscale.web.improvement.models import ChangeIdea
from spreadscale.web.measurement.models import Measure

# (key, kind, text, parent keys, measure slugs)
NODES = [
    (
        "aim",
        "aim",
        "Halve central line infections in every unit (about 3 to 1.5 per 1,000 line days) "
        "by June 2026, and keep them there",
        [],
        ["clabsi-rate"],
    ),
    ("p1", "primary", "Reliable, sterile line insertion", ["aim"], ["bundle-compliance"]),
    ("p2", "primary", "Reliable daily line maintenance", ["aim"], []),
    ("p3", "primary", "A unit culture where anyone can speak up for safety", ["aim"], []),
    ("s1", "secondary", "Everything needed for a sterile insertion is at the bedside", ["p1"], []),
    (
        "s2",
        "secondary",
        "A checklist is followed at every insertion",
        ["p1", "p3"],
        ["bundle-compliance"],
    ),
    (
        "s3",
        "secondary",
        "Each line's necessity is reviewed every day",
        ["p2"],
        ["line-reinsertion"],
    ),
    ("s4", "secondary", "Chlorhexidine for skin preparation and hub care", ["p1", "p2"], []),
    ("s5", "secondary", "Nurses are empowered to stop a non-compliant insertion", ["p3"], []),
    ("s6", "secondary", "The unit sees its own infection data", ["p3"], ["clabsi-rate"]),
]
# (key, title, component name, source, source detail, driver keys, measure slugs, description)
IDEAS = [
    (
        "checklist",
        "Insertion checklist completed by an observing nurse",
        "Insertion checklist format",
        ChangeIdea.Source.EVIDENCE,
        "Pronovost et al., NEJM 2006",
        ["s2"],
        ["bundle-compliance", "clabsi-rate"],
        "A second person watches every insertion and ticks each step of the bundle.",
    ),
    (
        "cart",
        "All-in-one insertion cart",
        "Insertion cart or kit",
        ChangeIdea.Source.EVIDENCE,
        "Berenholtz et al., Crit Care Med 2004",
        ["s1", "s4"],
        ["bundle-compliance"],
        "One cart holds everything for a sterile insertion, restocked after each use.",
    ),
    (
        "daily",
        "Daily goals sheet asks: is this line still needed?",
        "Daily review of line necessity",
        ChangeIdea.Source.EVIDENCE,
        "",
        ["s3"],
        ["line-reinsertion", "clabsi-rate"],
        "The ward round's daily goals sheet has a line-necessity question with a tick box.",
    ),
    (
        "stop",
        "Nurse may stop an insertion that breaks the bundle",
        "Who may stop a non-compliant insertion",
        ChangeIdea.Source.EVIDENCE,
        "",
        ["s5"],
        ["bundle-compliance"],
        "Agreed with the consultants: the nurse's stop is final.",
    ),
]
ADAPTATIONS = [
    "Checklist cut to one page and laminated for the trolley.",
    "Observer role given to the healthcare assistant on night shifts.",
    "Checklist built into the electronic insertion record.",
]


def _at(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(14, 0)))


def load(programme: Programme, demo: DemoProgramme, users: dict) -> None:
    """Add the improvement layer of the demo (deterministic for a given demo programme)."""
    rng = np.random.default_rng(5)
    lead = users["lead"]
    measures = {m.slug: m for m in Measure.objects.filter(programme=programme)}
    components = {c.name: c for c in Component.objects.filter(intervention__programme=programme)}
    sites = {s.code: s for s in Site.objects.filter(code__in=[d.code for d in demo.sites])}
    start = _at(demo.start)

    nodes = {}
    for order, (key, kind, text, parents, slugs) in enumerate(NODES):
        nodes[key] = actions.add_node(
            lead,
            programme,
            kind=kind,
            text=text,
            parents=[nodes[p] for p in parents],
            measures=[measures[s] for s in slugs],
            due=date(2026, 6, 30) if kind == "aim" else None,
            order=order,
            at=start,
        )
    ideas, idea_measures = {}, {}
    for key, title, component, source, detail, drivers, slugs, description in IDEAS:
        ideas[key] = actions.create_idea(
            lead,
            programme,
            title=title,
            description=description,
            component=components[component],
            source=source,
            source_detail=detail,
            drivers=[nodes[d] for d in drivers],
            at=start,
        )
        idea_measures[key] = [measures[s] for s in slugs]

    # An opinion leader's own idea, copied by the units that learn from it (the peer network).
    leader = next(s for s in demo.sites if s.opinion_leader)
    board = actions.create_idea(
        users["site"] if leader.code == "RA1-GICU" else lead,
        programme,
        title="Infection-free days board in the staff room",
        description="A whiteboard counts the days since the unit's last line infection.",
        source=ChangeIdea.Source.TEAM,
        drivers=[nodes["s6"]],
        site=sites[leader.code],
        at=_at(month_start(leader.adopt_month or 3)),
    )
    learns_from = {
        a for a, b, layer, _ in demo.edges if layer == "learns-from" and b == leader.code
    }
    for s in demo.sites:
        if s.adopt_month is None:
            continue
        actor = users["site"] if s.code == "RA1-GICU" else None
        testing = min(m for m, phase, _ in s.phases if phase in ("testing", "implementing"))
        _checklist_ramp(
            actor,
            programme,
            s,
            sites[s.code],
            ideas["checklist"],
            idea_measures["checklist"],
            testing,
            rng,
        )
        other = ("cart", "daily", "stop")[int(rng.integers(0, 3))]
        _single(
            actor,
            programme,
            s,
            sites[s.code],
            ideas[other],
            idea_measures[other],
            s.adopt_month + 1,
            rng,
        )
        if s.code == leader.code:
            _single(
                actor,
                programme,
                s,
                sites[s.code],
                board,
                [measures["clabsi-rate"]],
                s.adopt_month,
                rng,
            )
        elif s.code in learns_from and s.adopt_month + 2 < MONTHS:
            copy = actions.copy_idea(
                actor, board, sites[s.code], at=_at(month_start(s.adopt_month + 1))
            )
            _single(
                actor,
                programme,
                s,
                sites[s.code],
                copy,
                [measures["clabsi-rate"]],
                s.adopt_month + 2,
                rng,
            )
    _scores(programme, demo, sites, users, rng)


def _checklist_ramp(actor, programme, s: DemoSite, site, idea, linked, testing: int, rng) -> None:
    """One shift, then all day shifts, then every shift: a ramp that adapts once and adopts."""
    first = month_start(testing) + timedelta(days=int(rng.integers(2, 8)))
    adaptation = ADAPTATIONS[int(rng.integers(0, len(ADAPTATIONS)))]
    steps = [
        ("test", "Try the checklist on one day shift for two weeks.", "adapt", 14),
        ("test", "Try the adapted checklist on every day shift.", "adopt", 14),
        ("implement", "Use the checklist at every insertion, day and night.", "adopt", 28),
    ]
    parent = None
    day = first
    for i, (scale, objective, act, length) in enumerate(steps):
        if i == 2:
            day = max(day, month_start(s.adopt_month))
        cycle = actions.create_cycle(
            actor,
            programme,
            site=site,
            change_idea=idea,
            parent=parent,
            start_date=day,
            end_date=day + timedelta(days=length),
            scale=scale,
            objective=objective,
            questions="Will staff complete it at every insertion? How long does it take?",
            predictions="At least 8 of 10 insertions with a complete checklist; under 5 minutes.",
            plan_who="Charge nurse and the insertion team",
            plan_what="Observer ticks each bundle step; gaps fed back the same day.",
            plan_where=s.name,
            plan_when=f"{day:%d %b} for {length} days",
            data_plan="Checklists completed / insertions; minutes per checklist.",
            measures=linked,
            at=_at(day),
        )
        done = {
            "do_observations": "Completed for most insertions; night cover was patchy.",
            "study": (
                "Prediction met on day shifts (9 of 10 complete); took about 4 minutes."
                if act != "adapt"
                else "Only 6 of 10 complete: the two-page form was left in the office."
            ),
            "act": act,
            "adaptation": adaptation if act == "adapt" else "",
            "act_note": "Next: widen the test." if i < 2 else "Audit monthly.",
        }
        actions.update_cycle(
            actor,
            cycle,
            expected_version=cycle.version,
            at=_at(day + timedelta(days=length)),
            **done,
        )
        parent = cycle
        day = day + timedelta(days=length + 3)
    if s.abandon_month is not None:
        when = month_start(s.abandon_month) - timedelta(days=10)
        last = actions.create_cycle(
            actor,
            programme,
            site=site,
            change_idea=idea,
            parent=parent,
            start_date=when,
            end_date=when + timedelta(days=7),
            scale="spread",
            objective="Keep the checklist going with agency staff covering vacancies.",
            predictions="Compliance stays above 80%.",
            measures=linked,
            at=_at(when),
        )
        actions.update_cycle(
            actor,
            last,
            expected_version=last.version,
            do_observations="Most shifts were covered by agency staff new to the unit.",
            study="Compliance fell to about half; prediction not met.",
            act="abandon",
            act_note="The team stood down during the staffing crisis.",
            at=_at(when + timedelta(days=7)),
        )


def _single(actor, programme, s: DemoSite, site, idea, linked, month: int, rng) -> None:
    if month >= MONTHS:
        return
    day = month_start(month) + timedelta(days=int(rng.integers(1, 10)))
    cycle = actions.create_cycle(
        actor,
        programme,
        site=site,
        change_idea=idea,
        start_date=day,
        end_date=day + timedelta(days=21),
        scale="test",
        objective=f"Test '{idea.title}' for three weeks.",
        predictions="Staff will use it without extra time; the linked measures hold or improve.",
        plan_who="Unit improvement team",
        plan_where=s.name,
        measures=linked,
        at=_at(day),
    )
    if month + 1 < MONTHS:
        act = "abandon" if s.abandon_month is not None and month >= s.abandon_month - 2 else "adopt"
        actions.update_cycle(
            actor,
            cycle,
            expected_version=cycle.version,
            do_observations="Used on most shifts after a short huddle.",
            study="Staff found it quick; no extra time reported."
            if act == "adopt"
            else "Not kept up.",
            act=act,
            at=_at(day + timedelta(days=21)),
        )


def _score(s: DemoSite, month: int) -> float:
    """The faculty's view of a unit's progress in a month, following its phases."""
    enrol = s.enrol_month or 0
    if s.abandon_month is not None and month >= s.abandon_month:
        return 2.0
    if s.adopt_month is None or month < s.adopt_month - 1:
        return min(2.0, 1.0 + 0.5 * ((month - enrol) // 2))
    since = month - s.adopt_month
    return (
        2.5 if since < 0 else 3.0 if since < 2 else 3.5 if since < 4 else 4.0 if since < 7 else 4.5
    )


def _scores(programme, demo: DemoProgramme, sites, users, rng) -> None:
    for s in demo.sites:
        if s.enrol_month is None:
            continue
        rater = users["facilitator"] if s.region == "RB" else users["lead"]
        team = users["site"] if s.code == "RA1-GICU" else None
        for month in range(s.enrol_month, MONTHS):
            faculty = _score(s, month)
            # teams tend to rate themselves a half point higher now and then
            own = min(5.0, faculty + (0.5 if rng.random() < 0.35 else 0.0))
            when = _at(month_start(month + 1) + timedelta(days=3))
            for who, value, actor in (("team", own, team), ("facilitator", faculty, rater)):
                actions.record_progress_score(
                    actor,
                    programme,
                    site=sites[s.code],
                    month=month_start(month),
                    rater=who,
                    score=Decimal(str(value)),
                    at=when,
                )
