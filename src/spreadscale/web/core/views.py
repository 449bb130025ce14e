"""Pages of the programme spine: programme list, overview and site pages."""

from __future__ import annotations

from collections import Counter

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from spreadscale.web import permissions
from spreadscale.web.core import actions, selectors
from spreadscale.web.core.models import APIToken, Event, Phase, PhaseChange, Role
from spreadscale.web.measurement.models import Observation


@login_required
def programme_list(request: HttpRequest) -> HttpResponse:
    programmes = permissions.programmes_for(request.user).prefetch_related("enrolments")
    return render(request, "core/programme_list.html", {"programmes": programmes})


@login_required
def programme_overview(request: HttpRequest, slug: str) -> HttpResponse:
    access = permissions.access_for(request.user, slug)
    programme = access.programme
    rows = selectors.site_rows(programme)
    region_filter = request.GET.get("region", "")
    phase_filter = request.GET.get("phase", "")
    measures = selectors.measures(programme)
    latest, summary = selectors.latest_values(programme, access)
    phase_counts = Counter(r.enrolment.phase for r in rows)
    regions: dict[str, dict] = {}
    for r in rows:
        region = r.region
        if region_filter and (region is None or region.code != region_filter):
            continue
        if phase_filter and r.enrolment.phase != phase_filter:
            continue
        key = region.code if region else ""
        group = regions.setdefault(key, {"region": region, "rows": []})
        group["rows"].append(
            {
                "row": r,
                "readable": access.can_read_site(r.enrolment.site_id),
                "cells": [latest.get((m.pk, r.enrolment.site_id)) for m in measures],
            }
        )
    return render(
        request,
        "core/programme_overview.html",
        {
            "access": access,
            "programme": programme,
            "role_labels": [Role(r).label for r in sorted(access.roles)],
            "measures": measures,
            "summary": [summary.get(m.pk) for m in measures],
            "groups": list(regions.values()),
            "phase_counts": [(p, phase_counts.get(p.value, 0)) for p in Phase],
            "all_regions": sorted({r.region for r in rows if r.region}, key=lambda s: s.code),
            "region_filter": region_filter,
            "phase_filter": phase_filter,
            "site_count": len(rows),
        },
    )


@login_required
def site_detail(request: HttpRequest, slug: str, site_id: int) -> HttpResponse:
    access = permissions.access_for(request.user, slug)
    enrolment = permissions.enrolment_for(access, site_id)
    site = enrolment.site
    can_read = access.can_read_site(site.pk)
    history = PhaseChange.objects.filter(enrolment=enrolment).select_related("changed_by")
    measure_rows = []
    events = []
    if can_read:
        recent = (
            Observation.objects.filter(measure__programme=access.programme, site=site)
            .select_related("measure")
            .order_by("measure__order", "-period_start")
        )
        by_measure: dict[int, dict] = {}
        for obs in recent:
            entry = by_measure.setdefault(obs.measure_id, {"measure": obs.measure, "obs": []})
            if len(entry["obs"]) < 6:
                entry["obs"].append(obs)
        measure_rows = list(by_measure.values())
        events = list(
            Event.objects.filter(programme=access.programme, site=site).select_related("actor")[:20]
        )
    ancestors = list(type(site).objects.filter(pk__in=site.ancestor_ids()[:-1]).order_by("path"))
    return render(
        request,
        "core/site_detail.html",
        {
            "access": access,
            "programme": access.programme,
            "enrolment": enrolment,
            "site": site,
            "ancestors": ancestors,
            "history": history,
            "can_read": can_read,
            "can_change_phase": access.can_change_phase(site.pk),
            "measure_rows": measure_rows,
            "events": events,
        },
    )


@login_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    """Create and revoke personal API tokens. A new token is shown once, never again."""
    new_token = None
    error = None
    if request.method == "POST":
        if "revoke" in request.POST:
            try:
                row = actions.revoke_api_token(request.user, int(request.POST["revoke"]))
            except (ValueError, APIToken.DoesNotExist):
                raise Http404("No such token.") from None
            messages.success(
                request, f"Revoked the token '{row.name}'. Anything using it stops working now."
            )
            return redirect("api_tokens")
        try:
            _, new_token = actions.create_api_token(request.user, request.POST.get("name", ""))
        except ValidationError as exc:
            error = exc.message_dict["name"][0]
    tokens = APIToken.objects.filter(user=request.user)
    return render(
        request,
        "core/api_tokens.html",
        {"tokens": tokens, "new_token": new_token, "error": error},
        status=422 if error else 200,
    )
