"""Write the generated demo programme into the database, through the actions."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from importlib import import_module

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from spreadscale.demo.generator import START, DemoProgramme, generate, month_start
from spreadscale.web.core import actions as core
from spreadscale.web.core.models import Component, Programme, Role, Site
from spreadscale.web.measurement import actions as measurement
from spreadscale.web.measurement.models import Measure

DEMO_PASSWORD = "demo"
# Each area of the domain adds its part of the demo in a module with
# load(programme, demo, users); list it here, one line each.
AREA_DEMOS: list[str] = [
    "spreadscale.demo.improvement",
    "spreadscale.demo.fidelity",
    "spreadscale.demo.measurement",
]
# (username, full name, role, site code or None)
DEMO_USERS = [
    ("lead", "Lena Okafor", Role.LEAD, None),
    ("facilitator", "Farid Haddad", Role.FACILITATOR, "RB"),
    ("site", "Sam Whitfield", Role.SITE_LEAD, "RA1-GICU"),
    ("patient", "Pat Morgan", Role.PATIENT, "RA1-GICU"),
    ("evaluator", "Eve Lindqvist", Role.EVALUATOR, None),
]

MEASURES = [
    dict(
        slug="clabsi-rate",
        name="Central line infections per 1,000 line days",
        type=Measure.Type.OUTCOME,
        data_kind=Measure.DataKind.RATE,
        multiplier=1000.0,
        unit="per 1,000 line days",
        numerator_label="Central line-associated bloodstream infections",
        denominator_label="Central line days",
        improvement=Measure.Improvement.DECREASE,
        target=1.0,
        default_chart=Measure.Chart.U,
        frequency="month",
        operational_definition=(
            "Laboratory-confirmed bloodstream infections in patients with a central line in "
            "place for more than two days, not related to an infection at another site "
            "(surveillance definition), per 1,000 central line days in the unit that month."
        ),
    ),
    dict(
        slug="bundle-compliance",
        name="Insertion and maintenance bundle compliance",
        type=Measure.Type.PROCESS,
        data_kind=Measure.DataKind.PROPORTION,
        multiplier=100.0,
        unit="%",
        numerator_label="Audited lines with every bundle element",
        denominator_label="Lines audited",
        improvement=Measure.Improvement.INCREASE,
        target=95.0,
        default_chart=Measure.Chart.P,
        frequency="month",
        operational_definition=(
            "Share of audited central lines for which every element of the bundle was "
            "documented (hand hygiene, full barrier precautions, chlorhexidine skin "
            "preparation, site selection, daily review of need)."
        ),
    ),
    dict(
        slug="days-between-infections",
        name="Days between central line infections",
        type=Measure.Type.OUTCOME,
        data_kind=Measure.DataKind.TIME_BETWEEN,
        multiplier=1.0,
        unit="days",
        improvement=Measure.Improvement.INCREASE,
        default_chart=Measure.Chart.G,
        frequency="event",
        operational_definition="Days since the unit's previous central line infection, "
        "recorded on the date of each infection.",
    ),
    dict(
        slug="line-reinsertion",
        name="Central lines reinserted within 48 hours of removal",
        type=Measure.Type.BALANCING,
        data_kind=Measure.DataKind.PROPORTION,
        multiplier=100.0,
        unit="%",
        numerator_label="Lines reinserted within 48 hours",
        denominator_label="Lines removed",
        improvement=Measure.Improvement.DECREASE,
        default_chart=Measure.Chart.P,
        frequency="month",
        operational_definition="Balancing measure: removing lines sooner must not lead to "
        "more reinsertions.",
    ),
]

COMPONENTS = [
    (
        "Hand hygiene before line access",
        Component.Kind.CORE_FUNCTION,
        "Every access is preceded by hand hygiene, observed in the audit.",
    ),
    (
        "Maximal sterile barrier precautions at insertion",
        Component.Kind.CORE_FUNCTION,
        "Cap, mask, sterile gown, gloves and full-body drape at every insertion.",
    ),
    (
        "Chlorhexidine skin antisepsis",
        Component.Kind.CORE_FUNCTION,
        "2% chlorhexidine in alcohol, allowed to dry.",
    ),
    (
        "Daily review of line necessity",
        Component.Kind.CORE_FUNCTION,
        "Need for the line reviewed and documented every day; unneeded lines removed.",
    ),
    ("Insertion checklist format", Component.Kind.ADAPTABLE_FORM, ""),
    ("Who may stop a non-compliant insertion", Component.Kind.ADAPTABLE_FORM, ""),
    ("Insertion cart or kit", Component.Kind.ADAPTABLE_FORM, ""),
]


def _at(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(9, 0)))


@transaction.atomic
def load_demo(seed: int = 2026, demo: DemoProgramme | None = None) -> Programme:
    """Create the demo programme, its sites, people, measures and 30 months of data."""
    demo = demo or generate(seed)
    User = get_user_model()
    users = {}
    for username, full_name, _, _ in DEMO_USERS:
        first, last = full_name.split(" ", 1)
        user = User.objects.create_user(
            username, password=DEMO_PASSWORD, first_name=first, last_name=last
        )
        users[username] = user
    lead = users["lead"]

    # the programme was set up a fortnight before it began
    with core.events_dated(_at(demo.start - timedelta(days=14))):
        programme = core.create_programme(
            lead,
            name="Zero central line infections in intensive care",
            slug="clabsi",
            aim=(
                "Halve central line-associated bloodstream infections in 24 intensive care units "
                "(from about 3 to 1.5 per 1,000 line days) by June 2026, and keep them there."
            ),
            description=(
                "A proven insertion and maintenance bundle spreads from two opinion-leader "
                "units in the north through a peer network, by top-down waves in the "
                "Midlands, and to late joiners in the south."
            ),
            start_date=demo.start,
            end_date=month_start(demo.months) - timedelta(days=1),
        )
        intervention = core.create_intervention(
            lead,
            programme,
            name="Central line insertion and maintenance bundle",
            description="Five evidence-based practices delivered together at insertion and every day after.",
        )
        for order, (name, kind, criterion) in enumerate(COMPONENTS):
            core.add_component(
                lead, intervention, name=name, kind=kind, fidelity_criterion=criterion, order=order
            )

        sites: dict[str, Site] = {}
        for code, name in demo.regions.items():
            sites[code] = core.create_site(
                lead, name=name, code=code, level=Site.Level.REGION, kind=Site.Kind.REGION
            )
        for code, (name, region) in demo.organisations.items():
            sites[code] = core.create_site(
                lead,
                name=name,
                code=code,
                parent=sites[region],
                level=Site.Level.ORGANISATION,
                kind=Site.Kind.HOSPITAL,
                population_served=300_000 + 50_000 * (sum(map(ord, code)) % 7),
            )
        for s in demo.sites:
            sites[s.code] = core.create_site(
                lead,
                name=s.name,
                code=s.code,
                parent=sites[s.organisation],
                level=Site.Level.UNIT,
                kind=Site.Kind.WARD,
            )
            enrolment = core.enrol_site(
                lead, programme, sites[s.code], enrolled_on=demo.start, wave=s.wave
            )
            for month, phase, reason in s.phases:
                when = month_start(month)
                core.change_phase(
                    lead, enrolment, to_phase=phase, effective_on=when, reason=reason, at=_at(when)
                )

        for username, _, role, site_code in DEMO_USERS:
            core.add_membership(
                lead, users[username], programme, role, sites[site_code] if site_code else None
            )

        for order, fields in enumerate(MEASURES):
            measurement.create_measure(lead, programme, order=order, **fields)

    by_month: dict[date, list[measurement.ObservationRow]] = {}
    for o in demo.observations:
        key = o.period_start.replace(day=1)
        by_month.setdefault(key, []).append(
            measurement.ObservationRow(
                measure=o.measure,
                site=o.site,
                period_start=o.period_start,
                numerator=o.numerator,
                denominator=o.denominator,
                value=o.value,
                flags=o.flags,
                note=o.note,
                granularity=o.granularity,
            )
        )
    for month, rows in sorted(by_month.items()):
        # each month's data arrive early the next month, entered by the site teams
        measurement.import_observations(
            None,
            programme,
            rows,
            source="monthly return",
            at=_at(month_start(_index(month) + 1) + timedelta(days=6)),
        )
    for module in AREA_DEMOS:
        import_module(module).load(programme, demo, users)
    return programme


def _index(month: date) -> int:
    return (month.year - START.year) * 12 + month.month - START.month
