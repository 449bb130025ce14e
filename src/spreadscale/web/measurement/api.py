"""API: measures and observations, with bulk upsert that validates everything first."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema
from pydantic import BaseModel, Field, WithJsonSchema, model_validator
from pydantic.json_schema import SkipJsonSchema

from spreadscale.io.tables import Table
from spreadscale.web import permissions
from spreadscale.web.core.models import Enrolment, Programme
from spreadscale.web.measurement import actions, imports, selectors
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


PAGE_DEFAULT = 1000
PAGE_MAX = 10_000


class ObservationFilter(Schema):
    measure: str | None = None
    site: str | None = None
    start: date | None = Field(None, description="Periods starting on or after this date.")
    end: date | None = Field(None, description="Periods starting on or before this date.")
    limit: int = Field(
        PAGE_DEFAULT, ge=1, le=PAGE_MAX, description=f"Observations per page (at most {PAGE_MAX})."
    )
    offset: int = Field(0, ge=0, description="How many observations to skip.")


class ObservationPage(Schema):
    count: int = Field(description="Observations matching the filters, on all pages.")
    limit: int
    offset: int
    next: str | None = Field(description="URL of the next page; null on the last page.")
    previous: str | None = Field(description="URL of the previous page; null on the first.")
    results: list[ObservationOut]


# A cell as in a spreadsheet: text, a number or empty. The API checks it exactly as the import
# checks a file's cell, so "12a" in a number column is reported with every other problem.
Cell = Annotated[
    Any, WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "null"}]})
]


class ObservationIn(BaseModel):  # not a ninja Schema: that reads any value as an object
    """One observation as a file row's cells; every row is checked like an imported file's."""

    measure: Cell = Field(None, description="The measure's slug.")
    site: Cell = Field(None, description="The site's code.")
    period: Cell = Field(
        None, description="As in a file: 2024-03-01, 2024-03, 2024-W05, 2024-Q1 or 2024."
    )
    period_start: Cell = Field(None, description="The period's first day (or use `period`).")
    period_end: Cell = Field(None, description="Optional; if sent, the period's last day.")
    numerator: Cell = None
    denominator: Cell = None
    value: Cell = None
    flags: Annotated[
        Any,
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "array", "items": {"type": "string"}},
                    {"type": "string"},
                    {"type": "null"},
                ]
            }
        ),
    ] = Field(None, description="A list, or text separated by commas as in a file.")
    note: Cell = None
    not_an_object: SkipJsonSchema[str | None] = Field(None, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _object(cls, data: Any) -> Any:
        # Reported with the other rows' problems rather than on its own.
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if k != "not_an_object"}
        return {"not_an_object": type(data).__name__}


class UpsertResult(Schema):
    created: int
    revised: int
    unchanged: int


@router.get("/programmes/{slug}/measures", response=list[MeasureOut])
def list_measures(request: HttpRequest, slug: str):
    access = permissions.access_for(request.user, slug)
    return list(Measure.objects.filter(programme=access.programme))


@router.get("/programmes/{slug}/observations", response=ObservationPage)
def list_observations(request: HttpRequest, slug: str, filters: Query[ObservationFilter]):
    """Observations of the sites you may read, a page at a time (follow ``next``)."""
    access = permissions.access_for(request.user, slug)
    qs = (
        Observation.objects.filter(measure__programme=access.programme)
        .filter(access.readable_site_filter())
        .select_related("measure", "site")
        .order_by("measure__order", "measure_id", "site__code", "period_start", "pk")
    )
    if filters.measure:
        qs = qs.filter(measure__slug=filters.measure)
    if filters.site:
        qs = qs.filter(site__code=filters.site)
    if filters.start:
        qs = qs.filter(period_start__gte=filters.start)
    if filters.end:
        qs = qs.filter(period_start__lte=filters.end)
    count = qs.count()
    limit, offset = filters.limit, filters.offset
    page = qs[offset : offset + limit] if offset < count else []
    return {
        "count": count,
        "limit": limit,
        "offset": offset,
        "next": _page_url(request, offset + limit, limit) if offset + limit < count else None,
        "previous": _page_url(request, max(offset - limit, 0), limit) if offset > 0 else None,
        "results": [
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
            for o in page
        ],
    }


def _page_url(request: HttpRequest, offset: int, limit: int) -> str:
    query = request.GET.copy()
    query["offset"] = str(offset)
    query["limit"] = str(limit)
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


@router.post("/programmes/{slug}/observations", response=UpsertResult)
def upsert_observations(request: HttpRequest, slug: str, rows: list[ObservationIn]):
    """Create or update many observations with the import's checks; any problem in any row
    rejects the whole request with 422 and every problem as ``{row, field, message}``."""
    access = permissions.access_for(request.user, slug)
    enrolled = Enrolment.objects.filter(programme=access.programme).values_list(
        "site_id", flat=True
    )
    editable = set(access.editable_site_ids(enrolled))
    access.require(bool(editable))
    if not rows:
        raise ValidationError("Send at least one observation.")
    table, period_keys, errors = _as_table(rows)
    result = imports.preview(access.programme, table, _MAPPING, editable=editable)
    for p in result.problems:
        row = p.row - 1  # a file's row 2 is the API's row 1
        field = period_keys[row - 1] if p.column == "period" and row > 0 else p.column
        errors.append(actions.RowError(row, field, _api_rows(p.message)))
    errors.extend(_period_end_errors(access.programme, rows, result))
    if errors:
        errors.sort(key=lambda e: e.row)
        raise actions.ImportRejected(errors)
    done = imports.commit(request.user, access.programme, result, editable=editable, source="api")
    return {"created": done.created, "revised": done.revised, "unchanged": done.unchanged}


_COLUMNS = ("measure", "site", "period", "numerator", "denominator", "value", "flags", "note")
_MAPPING = {name: i for i, name in enumerate(_COLUMNS)}


def _text(v: Any) -> str:
    """A JSON value as the text of a file's cell."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"  # not a number: reported as such
    if isinstance(v, float):
        return repr(v)  # round-trips exactly
    if isinstance(v, int | str):
        return str(v)
    return json.dumps(v)


def _as_table(rows: list[ObservationIn]) -> tuple[Table, list[str], list[actions.RowError]]:
    """The rows as a file's table, which field each row named its period with, and problems
    the file reader cannot see (a blank row, both ``period`` and ``period_start``)."""
    cells: list[list[str]] = []
    keys: list[str] = []
    errors: list[actions.RowError] = []
    for i, r in enumerate(rows, start=1):
        key = "period" if r.period is not None or r.period_start is None else "period_start"
        if r.not_an_object is not None:
            errors.append(
                actions.RowError(i, "row", f"is {r.not_an_object}, not an object of named cells")
            )
        elif r.period is not None and r.period_start is not None:
            errors.append(actions.RowError(i, "period", "send period or period_start, not both"))
        flags = r.flags
        if isinstance(flags, list):
            flags = ",".join(_text(f) for f in flags)
        row = [
            _text(r.measure),
            _text(r.site),
            _text(r.period if key == "period" else r.period_start),
            _text(r.numerator),
            _text(r.denominator),
            _text(r.value),
            _text(flags),
            _text(r.note),
        ]
        if not any(c.strip() for c in row) and r.period_end is None and r.not_an_object is None:
            errors.append(actions.RowError(i, "row", "is empty"))
        cells.append(row)
        keys.append(key)
    return Table(list(_COLUMNS), cells), keys, errors


def _api_rows(message: str) -> str:
    """Say "duplicates row 3" in the file's numbering (header = row 1) as the API's row 2."""
    return re.sub(r"duplicates row (\d+)", lambda m: f"duplicates row {int(m[1]) - 1}", message)


def _period_end_errors(
    programme: Programme, rows: list[ObservationIn], result: imports.Preview
) -> list[actions.RowError]:
    """An optional ``period_end`` must be the last day of the period the row starts."""
    if all(r.period_end is None for r in rows):
        return []
    freq = dict(Measure.objects.filter(programme=programme).values_list("slug", "frequency"))
    errors = []
    for parsed, line in zip(result.rows, result.lines, strict=True):
        i = line - 1
        raw = rows[i - 1].period_end
        if raw is None:
            continue
        text = _text(raw).strip()
        try:
            end = date.fromisoformat(text)
        except ValueError:
            errors.append(actions.RowError(i, "period_end", f"{text!r} is not a date (2024-03-31)"))
            continue
        _, problems = actions.check_period(parsed.period_start, end, freq[parsed.measure])
        errors.extend(actions.RowError(i, f, m) for f, m in problems.items())
    return errors


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
