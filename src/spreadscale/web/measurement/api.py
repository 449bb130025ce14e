"""API: measures and observations, with bulk upsert that validates everything first."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from spreadscale.web import permissions
from spreadscale.web.core.models import Enrolment
from spreadscale.web.measurement import actions, selectors
from spreadscale.web.measurement.models import Measure, Observation

router = Router(tags=["measurement"])


class MeasureOut(Schema):
    slug: str
    name: str
    type: str
    data_kind: str
    unit: str
    multiplier: float
    improvement: str
    target: float | None
    default_chart: str
    frequency: str
    operational_definition: str


class ObservationOut(Schema):
    measure: str
    site: str
    period_start: date
    period_end: date
    granularity: str
    numerator: float | None
    denominator: float | None
    value: float | None
    flags: list[str]
    note: str | None = Field(
        None, description="Present only when your role may read the site's notes."
    )
    version: int


class ObservationFilter(Schema):
    measure: str | None = None
    site: str | None = None
    start: date | None = Field(None, description="Periods starting on or after this date.")
    end: date | None = Field(None, description="Periods starting on or before this date.")


class ObservationIn(Schema):
    measure: str
    site: str
    period_start: date
    period_end: date | None = None
    numerator: float | None = None
    denominator: float | None = None
    value: float | None = None
    flags: list[str] = []
    note: str = ""


class UpsertResult(Schema):
    created: int
    revised: int
    unchanged: int


@router.get("/programmes/{slug}/measures", response=list[MeasureOut])
def list_measures(request: HttpRequest, slug: str):
    access = permissions.access_for(request.user, slug)
    return list(Measure.objects.filter(programme=access.programme))


@router.get("/programmes/{slug}/observations", response=list[ObservationOut])
def list_observations(request: HttpRequest, slug: str, filters: Query[ObservationFilter]):
    access = permissions.access_for(request.user, slug)
    qs = (
        Observation.objects.filter(measure__programme=access.programme)
        .filter(access.readable_site_filter())
        .select_related("measure", "site")
        .order_by("measure__order", "site__code", "period_start")
    )
    if filters.measure:
        qs = qs.filter(measure__slug=filters.measure)
    if filters.site:
        qs = qs.filter(site__code=filters.site)
    if filters.start:
        qs = qs.filter(period_start__gte=filters.start)
    if filters.end:
        qs = qs.filter(period_start__lte=filters.end)
    return [
        {
            "measure": o.measure.slug,
            "site": o.site.code,
            "period_start": o.period_start,
            "period_end": o.period_end,
            "granularity": o.granularity,
            "numerator": o.numerator,
            "denominator": o.denominator,
            "value": o.value,
            "flags": o.flags,
            "note": o.note if access.can_read_notes(o.site_id) else None,
            "version": o.version,
        }
        for o in qs
    ]


@router.post("/programmes/{slug}/observations", response=UpsertResult)
def upsert_observations(request: HttpRequest, slug: str, rows: list[ObservationIn]):
    """Create or update many observations; any invalid row rejects the whole request (422)."""
    access = permissions.access_for(request.user, slug)
    codes = {row.site for row in rows}
    site_ids = dict(
        Enrolment.objects.filter(programme=access.programme, site__code__in=codes).values_list(
            "site__code", "site_id"
        )
    )
    forbidden = sorted(c for c, sid in site_ids.items() if not access.can_edit_site(sid))
    if forbidden:
        access.require(False)
    if not rows:
        raise ValidationError("Send at least one observation.")
    result = actions.import_observations(
        request.user,
        access.programme,
        [
            actions.ObservationRow(
                measure=r.measure,
                site=r.site,
                period_start=r.period_start,
                period_end=r.period_end,
                numerator=r.numerator,
                denominator=r.denominator,
                value=r.value,
                flags=tuple(r.flags),
                note=r.note,
            )
            for r in rows
        ],
        source="api",
    )
    return {"created": result.created, "revised": result.revised, "unchanged": result.unchanged}


class SpcPointOut(Schema):
    x: date
    y: float | None
    cl: float | None
    lcl: float | None
    ucl: float | None
    part: int
    point_type: str
    reasons: str
    numerator: float | None
    denominator: float | None
    flags: list[str]
    excluded: bool
    baseline: bool


class SpcSiteOut(Schema):
    site: str
    points: list[SpcPointOut]
    summary: dict[str, Any]
    proposal: dict[str, Any] | None


class SpcOut(Schema):
    measure: str
    chart: str
    rules: str
    improvement: str
    target: float | None
    rollup: dict[str, Any] | None
    sites: list[SpcSiteOut]


@router.get("/programmes/{slug}/measures/{measure_slug}/spc", response=SpcOut)
def measure_spc(request: HttpRequest, slug: str, measure_slug: str, site: str | None = None):
    """SPC results for every readable site of a measure (one batch), with the saved settings."""
    access = permissions.access_for(request.user, slug)
    measure = Measure.objects.filter(programme=access.programme, slug=measure_slug).first()
    if measure is None:
        raise Http404("No such measure in this programme.")
    enrolled = dict(
        Enrolment.objects.filter(programme=access.programme).values_list("site_id", "site__code")
    )
    ids = [sid for sid in enrolled if access.can_read_site(sid)]
    if site is not None:
        ids = [sid for sid in ids if enrolled[sid] == site]
        if not ids:
            raise Http404("No such site visible to you in this programme.")
    settings = actions.chart_settings_for(measure)
    charts = selectors.measure_charts(measure, ids, settings)
    if charts.error:
        raise ValidationError(charts.error)
    rollup = charts.rollup
    if rollup is not None:
        rollup = {
            **{k: v for k, v in rollup.items() if k != "groups"},
            "groups": {k: [enrolled[g] for g in v] for k, v in rollup["groups"].items()},
        }
    return {
        "measure": measure.slug,
        "chart": settings.chart,
        "rules": settings.rules,
        "improvement": measure.improvement,
        "target": measure.target,
        "rollup": rollup,
        "sites": [
            {
                "site": enrolled[sid],
                "points": sc.points,
                "summary": {k: _plain(v) for k, v in sc.summary.items()},
                "proposal": {k: _plain(v) for k, v in sc.proposal.items()} if sc.proposal else None,
            }
            for sid, sc in sorted(charts.sites.items(), key=lambda kv: enrolled[kv[0]])
        ],
    }


def _plain(v: Any) -> Any:
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, float) and v != v:
        return None
    return v
