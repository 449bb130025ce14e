"""The programme at-a-glance board (measures × sites) and the funnel plot per measure."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import TextField, Value
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from spreadscale.analytics.spc import funnel
from spreadscale.charts.spc import funnel_spec, sparkline_points
from spreadscale.io.tables import write_xlsx
from spreadscale.web import permissions
from spreadscale.web.core import selectors as core_selectors
from spreadscale.web.core.models import Phase
from spreadscale.web.measurement import actions, selectors
from spreadscale.web.measurement.entry import period_label, shift_period
from spreadscale.web.measurement.io_views import XLSX, _download
from spreadscale.web.measurement.models import (
    ChartAdjustment,
    ChartSettings,
    Measure,
    Observation,
)
from spreadscale.web.measurement.views import CHART_FORMATS, _measure, chart_download

VARIATION = {
    "special_cause_improvement": ("improvement", "▲", "Special cause: improving"),
    "special_cause_concern": ("concern", "▼", "Special cause: concern"),
    "common_cause": ("common", "●", "Common cause: no significant change"),
    "special_cause_neutral_high": ("common", "↑", "Special cause: higher"),
    "special_cause_neutral_low": ("common", "↓", "Special cause: lower"),
}
ASSURANCE = {
    "consistent_pass": ("pass", "P", "Consistently passing the target"),
    "consistent_fail": ("fail", "F", "Consistently failing the target"),
    "inconsistent": ("hit", "?", "Hit and miss: may or may not meet the target"),
}
SPARK_POINTS = 12
ROWS_PER_PAGE = 50


@dataclass
class Cell:
    value: float | None = None
    period: str = ""
    variation: tuple[str, str, str] | None = None
    assurance: tuple[str, str, str] | None = None
    spark: str = ""
    attention: int = 0
    variation_type: str = ""
    assurance_type: str = ""


@dataclass
class BoardRow:
    row: core_selectors.SiteRow
    cells: list[Cell] = field(default_factory=list)

    @property
    def attention(self) -> int:
        return sum(c.attention for c in self.cells)


def _board(access: permissions.Access, region: str, phase: str) -> dict[str, Any]:
    """Every readable site's latest value, icons and trend per measure, SPC in one batch each."""
    all_rows = core_selectors.site_rows(access.programme)
    rows = [
        r
        for r in all_rows
        if access.can_read_site(r.enrolment.site_id)
        and (not region or (r.region and r.region.code == region))
        and (not phase or r.enrolment.phase == phase)
    ]
    measures = list(Measure.objects.filter(programme=access.programme))
    saved = {s.measure_id: s for s in ChartSettings.objects.filter(measure__in=measures)}
    settings = {m.pk: saved.get(m.pk) or actions.chart_settings_for_unsaved(m) for m in measures}
    cells, errors = _programme_cells(
        access, measures, settings, [r.enrolment.site_id for r in all_rows]
    )
    board_rows = []
    for r in rows:
        br = BoardRow(r)
        br.cells = [cells[m.pk].get(r.enrolment.site_id, Cell()) for m in measures]
        board_rows.append(br)
    rollups = []
    for k, m in enumerate(measures):
        mine = [br.cells[k] for br in board_rows if br.cells[k].value is not None]
        rollup = {
            "n_groups": len(mine),
            "improved": sum(c.variation_type == "special_cause_improvement" for c in mine),
            "deteriorated": sum(c.variation_type == "special_cause_concern" for c in mine),
            "stable": sum(c.variation_type == "common_cause" for c in mine),
            "pass": sum(c.assurance_type == "consistent_pass" for c in mine),
        }
        rollups.append((m, settings[m.pk], rollup if mine else None, errors.get(m.pk, "")))
    regions = {r.region.code: r.region for r in all_rows if r.region}
    return {
        "measures": measures,
        "rows": board_rows,
        "rollups": rollups,
        "regions": [regions[code] for code in sorted(regions)],
    }


CACHE_SECONDS = 24 * 3600


def _cells_key(m: Measure, s: ChartSettings, sites: str) -> str:
    """A cache key that changes whenever the measure's cells could.

    ``data_token`` is renewed by every observation or chart-adjustment write (see
    ``actions.data_changed``); the measure's own definition (edited in the admin), its chart
    settings and the set of enrolled sites are part of the key too.
    """
    definition = (
        m.data_token,
        m.data_kind,
        m.improvement,
        m.target,
        m.multiplier,
        m.frequency,
        s.chart,
        s.rules,
        s.version,
        sites,
    )
    digest = hashlib.sha256(repr(definition).encode()).hexdigest()[:32]
    return f"measurement-glance-{m.pk}-{digest}"


def _programme_cells(
    access: permissions.Access,
    measures: list[Measure],
    settings: dict[int, ChartSettings],
    site_ids: list[int],
) -> tuple[dict[int, dict[int, Cell]], dict[int, str]]:
    """Cells for every enrolled site, cached per measure until that measure's data changes.

    A new value at one site recomputes that measure's series only, not the programme's. The
    cache holds all enrolled sites; each viewer sees only their readable rows. The measures'
    tokens were read before the observations below, so a write landing in between leaves
    newer data under an older key (never used again) rather than older data under a newer one.
    """
    sites = hashlib.sha256(",".join(map(str, sorted(site_ids))).encode()).hexdigest()
    keys = {m.pk: _cells_key(m, settings[m.pk], sites) for m in measures}
    found = cache.get_many(list(keys.values()))
    missing = [m for m in measures if keys[m.pk] not in found]
    if missing:
        found.update(_compute_cells(missing, settings, site_ids, keys))
    out: dict[int, dict[int, Cell]] = {}
    errors: dict[int, str] = {}
    for m in measures:
        out[m.pk], error = found[keys[m.pk]]
        if error:
            errors[m.pk] = error
    return out, errors


def _compute_cells(
    measures: list[Measure],
    settings: dict[int, ChartSettings],
    site_ids: list[int],
    keys: dict[int, str],
) -> dict[str, tuple[dict[int, Cell], str]]:
    """SPC for every enrolled site's series of these measures: a query and a batch per measure
    (one query for all would need a pass over every row in Python to split it)."""
    # No data-quality flags: cells do not show them, and decoding them doubles the fetch.
    no_flags = Value(None, output_field=TextField())  # a plain SQL NULL
    adjustments = list(
        ChartAdjustment.objects.filter(measure__in=measures, withdrawn_at__isnull=True)
    )
    computed: dict[str, tuple[dict[int, Cell], str]] = {}
    for m in measures:
        charts = selectors.charts_from_rows(
            m,
            settings[m.pk],
            site_ids,
            selectors.fetch_rows(
                Observation.objects.filter(measure=m, site_id__in=site_ids)
                .order_by("site_id", "period_start")
                .values_list(
                    "site_id", "period_start", "numerator", "denominator", "value", no_flags
                )
            ),
            [a for a in adjustments if a.measure_id == m.pk],
            tail=SPARK_POINTS,
        )
        computed[keys[m.pk]] = (
            {sid: _cell(sc) for sid, sc in charts.sites.items()},
            charts.error or "",
        )
    cache.set_many(computed, timeout=CACHE_SECONDS)
    return computed


def _cell(sc: selectors.SiteChart) -> Cell:
    last = sc.latest
    if last is None:
        return Cell()
    var = VARIATION.get(sc.summary.get("variation_type") or "")
    ass = ASSURANCE.get(sc.summary.get("assurance_type") or "")
    attention = (2 if var and var[0] == "concern" else 0) + (1 if ass and ass[0] == "fail" else 0)
    return Cell(
        value=last["y"],
        period=last["x"],
        variation=var,
        assurance=ass,
        spark=sparkline_points([p["y"] for p in sc.points[-SPARK_POINTS:]]),
        attention=attention,
        variation_type=sc.summary.get("variation_type") or "",
        assurance_type=sc.summary.get("assurance_type") or "",
    )


@login_required
def glance(request: HttpRequest, slug: str) -> HttpResponse:
    """Measures × sites: latest value, variation and assurance icons, trend; needs-attention sort."""
    access = permissions.access_for(request.user, slug)
    region = request.GET.get("region", "")
    phase = request.GET.get("phase", "")
    sort = request.GET.get("sort", "attention")
    data = _board(access, region, phase)
    if sort == "attention":
        data["rows"].sort(key=lambda br: (-br.attention, br.row.enrolment.site.code))
    page = Paginator(data["rows"], ROWS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "programme": access.programme,
        "access": access,
        **data,
        "rows": list(page.object_list),
        "page": page,
        "n_sites": len(data["rows"]),
        "region": region,
        "phase": phase,
        "sort": sort,
        "phases": Phase.choices,
        "can_enter": bool(
            access.editable_site_ids(br.row.enrolment.site_id for br in data["rows"])
        ),
    }
    return render(request, "measurement/glance.html", context)


@login_required
def glance_xlsx(request: HttpRequest, slug: str) -> HttpResponse:
    """The at-a-glance board as a workbook: one row per site, value and icons per measure."""
    access = permissions.access_for(request.user, slug)
    data = _board(access, request.GET.get("region", ""), request.GET.get("phase", ""))
    headers = ["Site", "Code", "Region", "Phase"]
    for m in data["measures"]:
        headers += [f"{m.name} ({m.unit})", f"{m.name}: period", "variation", "assurance"]
    rows = []
    for br in data["rows"]:
        e = br.row.enrolment
        line: list[Any] = [
            e.site.name,
            e.site.code,
            br.row.region.name if br.row.region else "",
            e.get_phase_display(),
        ]
        for c in br.cells:
            line += [
                None if c.value is None else round(c.value, 4),
                c.period,
                c.variation[2] if c.variation else "",
                c.assurance[2] if c.assurance else "",
            ]
        rows.append(line)
    roll_headers = ["Measure", "Chart", "Rules", "Improving", "Deteriorating", "Stable", "Pass"]
    roll_rows = [
        [m.name, s.chart, s.rules, r["improved"], r["deteriorated"], r["stable"], r["pass"]]
        for m, s, r, _ in data["rollups"]
        if r
    ]
    body = write_xlsx([("At a glance", headers, rows), ("Roll-up", roll_headers, roll_rows)])
    return _download(body, f"{access.programme.slug}-at-a-glance.xlsx", XLSX)


Z = {"95%": 1.959964, "99.8%": 3.090232}


PER_MONTH = {"day": 365.25 / 12, "event": 365.25 / 12, "week": 52.18 / 12, "month": 1.0}
WINDOWS = {
    "day": (1, 7, 28, 91),
    "event": (1, 7, 28, 91),
    "week": (1, 4, 13, 26, 52),
    "month": (1, 3, 6, 12),
    "quarter": (1, 2, 4, 8),
    "year": (1, 2, 3, 5),
}
MAX_WINDOW = 260


def _window_periods(params, gran: str) -> int:
    """The window length in the measure's own periods: ``periods=N``; an older ``months=N``
    link is read as the periods those months span."""
    try:
        if "periods" in params:
            n = int(params["periods"])
        elif "months" in params:
            months = int(params["months"])
            per = PER_MONTH.get(gran)
            n = (
                math.ceil(months * per)
                if per
                else math.ceil(months / (3 if gran == "quarter" else 12))
            )
        else:
            n = 1
    except ValueError:
        n = 1
    return max(1, min(MAX_WINDOW, n))


def _funnel(access: permissions.Access, measure: Measure, params) -> dict[str, Any]:
    """The funnel plot's context: sites, limits and the Vega-Lite spec (shared with exports)."""
    if not measure.uses_ratio:
        raise Http404("Funnel plots need a numerator and denominator.")
    gran = measure.frequency
    periods = _window_periods(params, gran)
    noun = "day" if gran == "event" else gran
    choices = [
        (n, f"Latest {noun}" if n == 1 else f"Last {n} {noun}s")
        for n in sorted(set(WINDOWS.get(gran, (1,))) | {periods})
    ]
    rows = core_selectors.site_rows(access.programme)
    names = {
        r.enrolment.site_id: r.enrolment.site.code
        for r in rows
        if access.can_read_site(r.enrolment.site_id)
    }
    last = (
        Observation.objects.filter(measure=measure, site_id__in=list(names))
        .order_by("-period_start")
        .values_list("period_start", flat=True)
        .first()
    )
    context: dict[str, Any] = {
        "programme": access.programme,
        "measure": measure,
        "periods": periods,
        "choices": choices,
        "access": access,
    }
    if last is None:
        return context
    since = shift_period(last, gran, -(periods - 1))
    agg: dict[int, list[float]] = {}
    for sid, num, den in Observation.objects.filter(
        measure=measure, site_id__in=list(names), period_start__gte=since, period_start__lte=last
    ).values_list("site_id", "numerator", "denominator"):
        if num is None or not den:
            continue
        a = agg.setdefault(sid, [0.0, 0.0])
        a[0] += num
        a[1] += den
    chart = "p" if measure.data_kind == Measure.DataKind.PROPORTION else "u"
    ids = sorted(agg)
    mult = measure.multiplier
    window = (
        period_label(last, gran)
        if periods == 1
        else f"{period_label(since, gran)} to {period_label(last, gran)}"
    )
    context.update({"since": since, "last": last, "window": window})
    if ids:
        res = funnel([agg[i][0] for i in ids], [agg[i][1] for i in ids], group=ids, chart=chart)
        sites = [
            {
                "site": names[r["group"]],
                "n": r["n"],
                "y": r["y"] * mult,
                "status": "within"
                if r["position"] == "within"
                else ("above" if r["position"].startswith("above") else "below"),
            }
            for r in res.records()
        ]
        ns = np.linspace(min(agg[i][1] for i in ids), max(agg[i][1] for i in ids), 60)
        t = res.target
        curve = []
        for level, z in Z.items():
            for n in ns:
                sd = math.sqrt(t * (1 - t) / n) if chart == "p" else math.sqrt(t / n)
                upper = t + z * sd
                curve.append(
                    {
                        "n": float(n),
                        "level": level,
                        "lower": max(0.0, t - z * sd) * mult,
                        "upper": (min(1.0, upper) if chart == "p" else upper) * mult,
                        "target": t * mult,
                    }
                )
        title = f"{measure.name}, {window}"
        context.update(
            {
                "sites": sorted(sites, key=lambda s: s["site"]),
                "target": t * mult,
                "spec": funnel_spec(sites, curve, title=title, y_title=measure.unit or "value"),
            }
        )
    return context


@login_required
def funnel_page(request: HttpRequest, slug: str, measure_slug: str) -> HttpResponse:
    """Sites of a ratio measure on a funnel plot for the latest period or a chosen window."""
    access = permissions.access_for(request.user, slug)
    measure = _measure(access, measure_slug)
    return render(request, "measurement/funnel.html", _funnel(access, measure, request.GET))


@login_required
def funnel_export(request: HttpRequest, slug: str, measure_slug: str, fmt: str) -> HttpResponse:
    """The funnel plot as SVG, PNG or PDF, rendered by vl-convert from the page's own spec."""
    if fmt not in CHART_FORMATS:
        raise Http404("Export charts as svg, png or pdf.")
    access = permissions.access_for(request.user, slug)
    measure = _measure(access, measure_slug)
    context = _funnel(access, measure, request.GET)
    if "spec" not in context:
        raise Http404("No data for this measure yet.")
    spec = {**context["spec"], "width": 720, "height": 360}
    name = f"{measure.slug}-funnel-{context['since']:%Y-%m-%d}-{context['last']:%Y-%m-%d}.{fmt}"
    return chart_download(spec, fmt, name)
