"""The measure page: observations per site and the entry form."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from spreadscale.charts.spc import spc_spec
from spreadscale.web import permissions
from spreadscale.web.core import selectors as core_selectors
from spreadscale.web.core.errors import StaleEdit
from spreadscale.web.forms import add_errors
from spreadscale.web.measurement import actions, annotations, selectors
from spreadscale.web.measurement.forms import AdjustmentForm, ChartSettingsForm, ObservationForm
from spreadscale.web.measurement.models import (
    ChartAdjustment,
    ChartSettings,
    Measure,
    Observation,
)

SITES_PER_PAGE = 50
VL_VERSION = "6.4"  # the Vega-Lite bundled in vl-convert, also vendored for the browser


def _measure(access: permissions.Access, measure_slug: str) -> Measure:
    try:
        return Measure.objects.get(programme=access.programme, slug=measure_slug)
    except Measure.DoesNotExist:
        raise Http404("No such measure in this programme.") from None


@login_required
def measure_detail(request: HttpRequest, slug: str, measure_slug: str) -> HttpResponse:
    access = permissions.access_for(request.user, slug)
    measure = _measure(access, measure_slug)
    rows = core_selectors.site_rows(access.programme)
    editable = [
        (r.enrolment.site_id, f"{r.enrolment.site.name} ({r.enrolment.site.code})")
        for r in rows
        if access.can_edit_site(r.enrolment.site_id)
    ]
    form = None
    if editable:
        if request.method == "POST":
            form = ObservationForm(request.POST, measure=measure, sites=editable)
            if form.is_valid() and _save(request, access, measure, form):
                url = request.path
                if request.htmx:
                    return HttpResponseClientRedirect(url)
                return redirect(url)
        else:
            form = ObservationForm(
                measure=measure, sites=editable, initial=_edit_initial(request, access, measure)
            )
    elif request.method == "POST":
        access.require(False)

    site_filter = request.GET.get("site", "")
    page = _chart_page(access, rows, site_filter, request.GET.get("page"))
    readable = list(page.object_list)
    site_ids = [r.enrolment.site_id for r in readable]
    settings = actions.chart_settings_for(measure)
    charts = selectors.measure_charts(measure, site_ids, settings)
    notes = annotations.annotations_for(access, measure, site_ids)
    y_domain = _y_domain(charts, settings)
    tables = [
        {
            "row": r,
            "editable": access.can_edit_site(r.enrolment.site_id),
            "adjustable": access.can_change_phase(r.enrolment.site_id),
            **_site_chart(measure, r, charts, notes, y_domain),
        }
        for r in readable
    ]
    context = {
        "access": access,
        "programme": access.programme,
        "measure": measure,
        "form": form,
        "tables": tables,
        "all_sites": [r.enrolment.site for r in rows if access.can_read_site(r.enrolment.site_id)],
        "site_filter": site_filter,
        "settings": settings,
        "settings_form": ChartSettingsForm(
            initial={
                "chart": settings.chart,
                "rules": settings.rules,
                "y_scale": settings.y_scale,
                "version": settings.version,
            }
        )
        if access.can_manage_programme
        else None,
        "charts": charts,
        "page": page,
        "hidden_sites": len(rows)
        - len([r for r in rows if access.can_read_site(r.enrolment.site_id)]),
    }
    if site_filter and len(tables) == 1:  # one site asked for: show its values right away
        tables[0]["values"] = _values_context(access, measure, tables[0]["row"].enrolment)
    status = 422 if request.method == "POST" else 200
    if request.htmx and request.method == "POST":
        return render(request, "measurement/measure_detail.html#entry-form", context, status=status)
    return render(request, "measurement/measure_detail.html", context, status=status)


def _edit_initial(request: HttpRequest, access: permissions.Access, measure: Measure) -> dict:
    """Fill the form from ?edit=<observation id>, carrying the version the editor saw."""
    obs_id = request.GET.get("edit")
    if not obs_id or not obs_id.isdigit():
        return {}
    obs = Observation.objects.filter(pk=int(obs_id), measure=measure).first()
    if obs is None or not access.can_edit_site(obs.site_id):
        return {}
    period = (
        obs.period_start.strftime("%Y-%m")
        if measure.frequency == "month"
        else obs.period_start.isoformat()
    )
    return {
        "site": obs.site_id,
        "period": period,
        "numerator": obs.numerator,
        "denominator": obs.denominator,
        "value": obs.value,
        "flags": obs.flags,
        "note": obs.note,
        "version": obs.version,
    }


def _save(
    request: HttpRequest, access: permissions.Access, measure: Measure, form: ObservationForm
) -> bool:
    data = form.cleaned_data
    site_id = data["site"]
    access.require(access.can_edit_site(site_id))
    enrolment = permissions.enrolment_for(access, site_id)
    try:
        actions.record_observation(
            request.user,
            measure,
            enrolment.site,
            actions.ObservationInput(
                period_start=data["period"],
                numerator=data.get("numerator"),
                denominator=data.get("denominator"),
                value=data.get("value"),
                flags=tuple(data.get("flags") or ()),
                note=data.get("note") or "",
            ),
            expected_version=data["version"],
        )
    except StaleEdit as exc:
        if data["version"] == 0:
            form.add_error(
                "period",
                "There is already a value for this period at this site. "
                "Use Edit on its row below to change it.",
            )
        else:
            add_errors(form, exc)
        return False
    except ValidationError as exc:
        add_errors(form, exc)
        return False
    messages.success(
        request, f"Saved {measure.name} for {enrolment.site.name}, {data['period']:%d %b %Y}."
    )
    return True


def _chart_page(access: permissions.Access, rows, site_filter: str, number):
    """The page of site charts the measure page shows for a site filter and page number."""
    readable = [r for r in rows if access.can_read_site(r.enrolment.site_id)]
    if site_filter:
        readable = [r for r in readable if r.enrolment.site.code == site_filter]
    return Paginator(readable, SITES_PER_PAGE).get_page(number)


def _y_domain(
    charts: selectors.MeasureCharts, settings: ChartSettings
) -> tuple[float, float] | None:
    """The y-range the measure page draws with: shared over the page's sites, or free."""
    return charts.y_domain() if settings.y_scale == ChartSettings.YScale.SHARED else None


def _site_chart(
    measure: Measure,
    row: core_selectors.SiteRow,
    charts: selectors.MeasureCharts,
    notes: list[annotations.Annotation],
    y_domain: tuple[float, float] | None,
) -> dict:
    """The chart spec, its annotations and SPC summary for one site's card."""
    site = row.enrolment.site
    sc = charts.sites.get(site.pk) or selectors.SiteChart(site.pk)
    mine = [a for a in notes if a.site_id in (None, site.pk)]
    mine += [
        annotations.Annotation(
            on=a.on, site_id=site.pk, kind="chart", label=a.get_kind_display(), detail=a.reason
        )
        for a in sc.adjustments
        if a.kind != a.Kind.DISMISSED
    ]
    mine.sort(key=lambda a: (a.on, a.kind))
    spec = spc_spec(
        sc.points,
        title=f"{site.name} ({site.code})",
        y_title=measure.unit or measure.name,
        annotations=[
            {"on": a.on.isoformat(), "kind": a.kind, "label": a.label, "detail": a.detail}
            for a in mine
        ],
        target=measure.target,
        y_domain=y_domain,
        description=f"{charts.settings.get_chart_display()} of {measure.name} at {site.name}",
    )
    return {"chart": sc, "spec": spec, "spec_id": f"spec-{site.pk}", "annotations": mine}


@login_required
@require_POST
def chart_settings(request: HttpRequest, slug: str, measure_slug: str) -> HttpResponse:
    """Save a measure's chart type, rule profile and y-scale (programme leads)."""
    access = permissions.access_for(request.user, slug)
    access.require(access.can_manage_programme)
    measure = _measure(access, measure_slug)
    form = ChartSettingsForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            actions.update_chart_settings(
                request.user,
                measure,
                chart=d["chart"],
                rules=d["rules"],
                y_scale=d["y_scale"],
                reason=d["reason"],
                expected_version=d["version"],
            )
        except (ValidationError, StaleEdit) as exc:
            add_errors(form, exc)
    if form.errors:
        for field, errs in form.errors.items():
            messages.error(request, f"Chart settings, {field}: {' '.join(errs)}")
    else:
        messages.success(request, f"Chart settings of {measure.name} saved.")
    return redirect("measure_detail", slug=slug, measure_slug=measure_slug)


@login_required
@require_POST
def add_adjustment(request: HttpRequest, slug: str, measure_slug: str) -> HttpResponse:
    """Add a phase, frozen baseline or excluded point to one site's chart (site leads)."""
    access = permissions.access_for(request.user, slug)
    measure = _measure(access, measure_slug)
    form = AdjustmentForm(request.POST)
    if not form.is_valid():
        for field, errs in form.errors.items():
            messages.error(request, f"Chart change, {form.fields[field].label}: {' '.join(errs)}")
        return redirect("measure_detail", slug=slug, measure_slug=measure_slug)
    d = form.cleaned_data
    access.require(access.can_change_phase(d["site"]))
    enrolment = permissions.enrolment_for(access, d["site"])
    try:
        actions.add_adjustment(
            request.user, measure, enrolment.site, kind=d["kind"], on=d["on"], reason=d["reason"]
        )
    except ValidationError as exc:
        for msg in exc.messages:
            messages.error(request, f"Chart change for {enrolment.site.code}: {msg}")
    else:
        messages.success(request, f"Chart change saved for {enrolment.site.name}.")
    return redirect(_site_anchor(slug, measure_slug, enrolment.site_id))


@login_required
@require_POST
def withdraw_adjustment(
    request: HttpRequest, slug: str, measure_slug: str, adjustment_id: int
) -> HttpResponse:
    """Undo a chart change; it stays in the history as withdrawn."""
    access = permissions.access_for(request.user, slug)
    measure = _measure(access, measure_slug)
    adj = ChartAdjustment.objects.filter(pk=adjustment_id, measure=measure).first()
    if adj is None or not access.can_read_site(adj.site_id):
        raise Http404("No such chart change.")
    access.require(access.can_change_phase(adj.site_id))
    try:
        actions.withdraw_adjustment(request.user, adj)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Chart change withdrawn.")
    return redirect(_site_anchor(slug, measure_slug, adj.site_id))


@login_required
@require_POST
def decide_rebase(request: HttpRequest, slug: str, measure_slug: str, site_id: int) -> HttpResponse:
    """Accept (a new phase from the shift) or dismiss the engine's rebase proposal."""
    access = permissions.access_for(request.user, slug)
    measure = _measure(access, measure_slug)
    enrolment = permissions.enrolment_for(access, site_id)
    access.require(access.can_change_phase(site_id))
    try:
        on = date.fromisoformat(request.POST.get("on", ""))
    except ValueError:
        messages.error(request, "The proposal's date is missing or not a date.")
        return redirect(_site_anchor(slug, measure_slug, site_id))
    accept = request.POST.get("decision") == "accept"
    evidence = request.POST.get("evidence", "")[:300]
    try:
        actions.add_adjustment(
            request.user,
            measure,
            enrolment.site,
            kind=ChartAdjustment.Kind.PHASE if accept else ChartAdjustment.Kind.DISMISSED,
            on=on,
            reason=("Accepted proposed rebase: " if accept else "Dismissed proposed rebase: ")
            + (evidence or "sustained shift"),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "New limits from the shift." if accept else "Proposal dismissed.")
    return redirect(_site_anchor(slug, measure_slug, site_id))


def _site_anchor(slug: str, measure_slug: str, site_id: int) -> str:
    url = reverse("measure_detail", kwargs={"slug": slug, "measure_slug": measure_slug})
    return f"{url}#site-{site_id}"


CHART_FORMATS = {
    "svg": "image/svg+xml",
    "png": "image/png",
    "pdf": "application/pdf",
}


@login_required
def chart_export(
    request: HttpRequest, slug: str, measure_slug: str, site_id: int, fmt: str
) -> HttpResponse:
    """One site's chart as SVG, PNG or PDF, rendered by vl-convert from the page's own spec."""
    if fmt not in CHART_FORMATS:
        raise Http404("Export charts as svg, png or pdf.")
    access = permissions.access_for(request.user, slug)
    measure = _measure(access, measure_slug)
    enrolment = permissions.enrolment_for(access, site_id)
    access.require(access.can_read_site(site_id))
    settings = actions.chart_settings_for(measure)
    site_ids = [site_id]
    if settings.y_scale == ChartSettings.YScale.SHARED:
        # the page the chart was shown on (?site=…&page=… as in its links), else the
        # unfiltered page holding this site: its y-range is shared with those sites
        rows = core_selectors.site_rows(access.programme)
        page = _chart_page(access, rows, request.GET.get("site", ""), request.GET.get("page"))
        shown = [r.enrolment.site_id for r in page.object_list]
        if site_id not in shown:
            readable = [
                r.enrolment.site_id for r in rows if access.can_read_site(r.enrolment.site_id)
            ]
            start = readable.index(site_id) // SITES_PER_PAGE * SITES_PER_PAGE
            shown = readable[start : start + SITES_PER_PAGE]
        site_ids = shown
    charts = selectors.measure_charts(measure, site_ids, settings)
    notes = annotations.annotations_for(access, measure, [site_id])
    row = core_selectors.SiteRow(enrolment, None, None)
    spec = _site_chart(measure, row, charts, notes, _y_domain(charts, settings))["spec"]
    spec = {**spec, "width": 720, "height": 300}
    return chart_download(spec, fmt, f"{measure.slug}-{enrolment.site.code}.{fmt}")


def chart_download(spec: dict, fmt: str, name: str) -> HttpResponse:
    """A page's Vega-Lite spec rendered by vl-convert (no browser) as an attachment."""
    import vl_convert

    if fmt not in CHART_FORMATS:
        raise Http404("Export charts as svg, png or pdf.")
    spec = {**spec, "background": "white"}
    if fmt == "svg":
        body: bytes = vl_convert.vegalite_to_svg(spec, vl_version=VL_VERSION).encode()
    elif fmt == "png":
        body = vl_convert.vegalite_to_png(spec, vl_version=VL_VERSION, scale=2)
    else:
        body = vl_convert.vegalite_to_pdf(spec, vl_version=VL_VERSION)
    response = HttpResponse(body, content_type=CHART_FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def site_values(request: HttpRequest, slug: str, measure_slug: str, site_id: int) -> HttpResponse:
    """One site's values of a measure as a table (loaded when its disclosure opens)."""
    access = permissions.access_for(request.user, slug)
    measure = _measure(access, measure_slug)
    enrolment = permissions.enrolment_for(access, site_id)
    access.require(access.can_read_site(site_id))
    context = _values_context(access, measure, enrolment)
    return render(request, "measurement/_site_values.html", context)


def _values_context(access: permissions.Access, measure: Measure, enrolment) -> dict:
    site_id = enrolment.site_id
    observations = list(
        Observation.objects.filter(measure=measure, site_id=site_id)
        .select_related("entered_by")
        .order_by("-period_start")
    )
    for obs in observations:
        obs.shown = (
            obs.value
            if obs.value is not None
            else (
                obs.numerator / obs.denominator * measure.multiplier
                if obs.denominator and obs.numerator is not None
                else None
            )
        )
    return {
        "programme": access.programme,
        "measure": measure,
        "site": enrolment.site,
        "observations": observations,
        "editable": access.can_edit_site(site_id),
        "notes_visible": access.can_read_notes(site_id),
    }
