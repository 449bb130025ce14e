"""The measure page: observations per site and the entry form."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django_htmx.http import HttpResponseClientRedirect

from spreadscale.web import permissions
from spreadscale.web.core import selectors
from spreadscale.web.core.errors import StaleEdit
from spreadscale.web.forms import add_errors
from spreadscale.web.measurement import actions
from spreadscale.web.measurement.forms import ObservationForm
from spreadscale.web.measurement.models import Measure, Observation


def _measure(access: permissions.Access, measure_slug: str) -> Measure:
    try:
        return Measure.objects.get(programme=access.programme, slug=measure_slug)
    except Measure.DoesNotExist:
        raise Http404("No such measure in this programme.") from None


@login_required
def measure_detail(request: HttpRequest, slug: str, measure_slug: str) -> HttpResponse:
    access = permissions.access_for(request.user, slug)
    measure = _measure(access, measure_slug)
    rows = selectors.site_rows(access.programme)
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
    readable = [r for r in rows if access.can_read_site(r.enrolment.site_id)]
    if site_filter:
        readable = [r for r in readable if r.enrolment.site.code == site_filter]
    observations = (
        Observation.objects.filter(
            measure=measure, site_id__in=[r.enrolment.site_id for r in readable]
        )
        .select_related("entered_by")
        .order_by("site_id", "-period_start")
    )
    by_site: dict[int, list[Observation]] = {}
    for obs in observations:
        obs.shown = (
            obs.value
            if obs.value is not None
            else (obs.numerator / obs.denominator * measure.multiplier if obs.denominator else None)
        )
        obs.note_visible = access.can_read_notes(obs.site_id)
        by_site.setdefault(obs.site_id, []).append(obs)
    tables = [
        {
            "row": r,
            "observations": by_site.get(r.enrolment.site_id, []),
            "editable": access.can_edit_site(r.enrolment.site_id),
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
        "hidden_sites": len(rows)
        - len([r for r in rows if access.can_read_site(r.enrolment.site_id)]),
    }
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
