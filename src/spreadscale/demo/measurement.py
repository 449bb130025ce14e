"""Demo chart decisions: a new phase at adoption, an excluded incomplete month, a shared scale."""

from __future__ import annotations

from spreadscale.demo.generator import DemoProgramme, month_start
from spreadscale.web.core.models import Programme, Site
from spreadscale.web.measurement import actions
from spreadscale.web.measurement.models import Measure, Observation


def load(programme: Programme, demo: DemoProgramme, users: dict) -> None:
    """Chart changes made through the actions, dated around each unit's adoption."""
    measures = {m.slug: m for m in Measure.objects.filter(programme=programme)}
    compliance = measures["bundle-compliance"]
    unit = next(s for s in demo.sites if s.code == "RA1-GICU")
    if unit.adopt_month is not None:
        actions.add_adjustment(
            users["site"],
            compliance,
            Site.objects.get(code=unit.code),
            kind="phase",
            on=month_start(unit.adopt_month),
            reason="New insertion checklist and daily line review from this month",
        )
    # The facilitator leaves an incomplete month out of an RB unit's limits, saying why.
    flagged = [
        o
        for o in Observation.objects.filter(measure=compliance, site__code__startswith="RB")
        .select_related("site")
        .order_by("site__code", "period_start")
        if "incomplete" in o.flags
    ]
    if flagged:
        actions.add_adjustment(
            users["facilitator"],
            compliance,
            flagged[0].site,
            kind="exclude",
            on=flagged[0].period_start,
            reason="Audit sheets missing for part of the month; not comparable",
        )
    settings = actions.chart_settings_for(compliance)
    actions.update_chart_settings(
        users["lead"],
        compliance,
        chart=settings.chart,
        rules="anhoej",
        y_scale="shared",
        reason="Compare units on one scale at the steering group",
        expected_version=settings.version,
    )
