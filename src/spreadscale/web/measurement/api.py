"""API: measures and observations, with bulk upsert that validates everything first."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from spreadscale.web import permissions
from spreadscale.web.core.models import Enrolment
from spreadscale.web.measurement import actions
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
